"""Reminder throughput: 100,000 reminders due in the same minute, claimed and queued into the outbox
by scheduler processes — one on SQLite, two at once on PostgreSQL.

    python bench/reminders.py [--reminders 100000] [--batch 1000] [--backends sqlite,postgres]
                              [--sqlite-processes 1] [--postgres-processes 2]

Each backend gets a fresh database (SQLite: a temporary file; PostgreSQL: a throwaway cluster
started from the machine's binaries like the tests' one, as the ``postgres`` user when run as
root), migrated, with the reminders inserted before timing starts. The schedulers are real
processes running the real job (bot.reminder_jobs.send_due: claim a batch, decide, settle — the
outbox rows and message-log rows written in the transaction that marks the batch sent). They wait
at a barrier, then all start at once; the time is from the first start to the last finish.

Afterwards the database is checked: duplicates = reminders reported sent more than once plus
outbox rows beyond one per reminder; missing = reminders without status 'sent' and their outbox
row.

Last line (the last backend's): reminders=N seconds=S duplicates=N missing=N
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.config import Settings, validate  # noqa: E402
from storage import communities, reminders  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.member_models import Reminder  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import OutboxMessage  # noqa: E402
from storage.reminders import Due  # noqa: E402

SEED_CHUNK = 5000


def bench_settings(url: str, batch: int) -> Settings:
    return validate({
        "database": {"url": url, "pool_size": 4},
        "log": {"level": "WARNING"},
        "reminders": {"batch_size": batch},
        "communities": [{"slug": "bench", "name": "压测社区"}],
        "accounts": [{"name": "bench", "community": "bench", "appid": "wxbench0000000001", "token": "benchtoken",
                      "encryption": "plain"}],
    })


# ---- the scheduler process ----------------------------------------------------------------------

async def scheduler_process(url: str, batch: int) -> dict:
    """Wait at the barrier (a line on stdin), then send everything due; report what it did."""
    from bot import reminder_jobs
    from bot.services import Services

    settings = bench_settings(url, batch)
    db = Database(url, pool_size=4)
    async with db.sessions.begin() as session:
        ids = await communities.ensure(session, [("bench", "压测社区")])
    services = Services(settings=settings, db=db, nlu=None, community_ids=ids)
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.time()
    sent = await reminder_jobs.send_due(services)
    finished = time.time()
    await db.dispose()
    return {"sent": sent, "started": started, "finished": finished}


# ---- the parent ----------------------------------------------------------------------------------

async def seed(url: str, count: int) -> datetime:
    """``count`` reminders due within one minute (the minute that just ended)."""
    now = datetime.now(timezone.utc)
    minute = now.replace(second=0, microsecond=0) - timedelta(minutes=1)
    db = Database(url)
    try:
        async with db.sessions.begin() as session:
            community_id = (await communities.ensure(session, [("bench", "压测社区")]))["bench"]
        for start in range(0, count, SEED_CHUNK):
            async with db.sessions.begin() as session:
                await reminders.schedule(session, [
                    Due(community_id, "bench", f"bench:{i}", "bench", f"o_bench_{i}",
                        minute + timedelta(seconds=i % 60), key=f"bench:{i}",
                        payload={"title": "走访提醒", "content": f"【走访提醒】第{i}号提醒",
                                 "notice_kind": "member_reminder"})
                    for i in range(start, min(start + SEED_CHUNK, count))], now=now)
    finally:
        await db.dispose()
    return now


def run_schedulers(url: str, processes: int, batch: int) -> list[dict]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", url, "--batch", str(batch)]
    children = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
                for _ in range(processes)]
    for child in children:
        line = child.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"scheduler process did not start: {line!r}")
    for child in children:  # the barrier: all go at once
        child.stdin.write("go\n")
        child.stdin.flush()
    reports = []
    for child in children:
        out, _ = child.communicate(timeout=600)
        if child.returncode != 0:
            raise RuntimeError(f"scheduler process failed ({child.returncode})")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


async def check(url: str, count: int, reports: list[dict]) -> tuple[int, int]:
    """(duplicates, missing) as the database and the processes tell it."""
    db = Database(url)
    try:
        async with db.sessions() as session:
            sent = await session.scalar(select(func.count()).select_from(Reminder).where(Reminder.status == "sent"))
            rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
            keys = await session.scalar(select(func.count(func.distinct(OutboxMessage.idempotency_key))))
            outbox_key = reminders.OUTBOX_KEY_PREFIX + Reminder.idempotency_key
            queued = await session.scalar(
                select(func.count()).select_from(Reminder)
                .join(OutboxMessage, OutboxMessage.idempotency_key == outbox_key).where(Reminder.status == "sent"))
    finally:
        await db.dispose()
    duplicates = (sum(report["sent"] for report in reports) - sent) + (rows - keys) + (rows - queued)
    return duplicates, count - queued


def measure(label: str, url: str, args: argparse.Namespace, processes: int) -> str:
    upgrade(url)
    asyncio.run(seed(url, args.reminders))
    reports = run_schedulers(url, processes, args.batch)
    seconds = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    duplicates, missing = asyncio.run(check(url, args.reminders, reports))
    split = ", ".join(f"{r['sent']}" for r in reports)
    print(f"{label}: {processes} scheduler process(es), batch {args.batch}: {args.reminders / seconds:,.0f} "
          f"reminders/s; sent per process: {split}", flush=True)
    return f"reminders={args.reminders} seconds={seconds:.1f} duplicates={duplicates} missing={missing}"


def sqlite_run(args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as folder:
        return measure("sqlite", f"sqlite+aiosqlite:///{folder}/bench.db", args, args.sqlite_processes)


def postgres_run(args: argparse.Namespace) -> str:
    from tests.postgres import Cluster, _free_port, _server_user, postgres_bin_dir

    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="linli-bench-pg-"))
    if user is not None:
        import os

        os.chown(root, user.pw_uid, user.pw_gid)
    cluster = Cluster(postgres_bin_dir(), root, _free_port(), user)
    cluster.start()
    try:
        cluster.sql("CREATE DATABASE linli_bench")
        return measure("postgresql", cluster.url("linli_bench"), args, args.postgres_processes)
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="reminders claimed per transaction")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--sqlite-processes", type=int, default=1)
    parser.add_argument("--postgres-processes", type=int, default=2)
    parser.add_argument("--worker", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(scheduler_process(args.worker, args.batch))), flush=True)
        return
    runs = {"sqlite": sqlite_run, "postgres": postgres_run}
    for backend in args.backends.split(","):
        line = runs[backend.strip()](args)
        print(line, flush=True)


if __name__ == "__main__":
    main()
