"""Sustained load through the full production path, and the bare baseline in the same run.

    python bench/load.py [--rate 300] [--seconds 60] [--workers 2] [--data ../shared/data]

What runs, all on this machine and loopback:

- PostgreSQL: a throwaway cluster from the machine's binaries (tests/postgres.py; fsync off as
  in the tests), migrated;
- the fake WeChat API as its own process (customer-service messages land there);
- `linli serve --workers 2` (the supervisor, worker 0 with the scheduler) with
  PROMETHEUS_MULTIPROC_DIR set, so /metrics adds up both workers; safe mode (AES);
- this process: an open-loop generator — message k is due at start + k / rate whatever the
  replies do, each on a new connection (like nginx's default HTTP/1.0 upstream, and so the
  kernel's SO_REUSEPORT spreads messages over the workers). Latency is from the due time to the
  whole response, so a generator that falls behind shows up in the numbers instead of hiding.

The mix is residents' sessions built from real messages (../shared/data, read at run time,
never copied): Teddy Cup titles and first sentences of letters as reports, each followed by
"跳过", "跳过", "确认" as the intake form asks (photo, phone, confirm); SMP2017 queries
(chit-chat, questions); greetings; "我的积分"; "我的工单". A resident's messages in one session
are at least two seconds apart, as a person types.

Counted afterwards, once the outbox is empty:
- deadline_misses: the servers' linli_deadline_misses_total (a reply sent later as a
  customer-service message) plus responses WeChat would have dropped (5 s or more, or none);
- lost / duplicated: per message, one inbound log row and one finished processed key in the
  database; per resident, replies delivered to WeChat (passive replies + customer-service
  messages on the fake API) against messages sent — fewer is lost, more is duplicated.

The baseline is bench/endpoint.py's bare wechatpy server (signature, decrypt, parse, encrypted
reply; one process), driven closed-loop with 50 connections, as in that benchmark.

Last line: rps=N p50_ms=N p99_ms=N deadline_misses=N lost=N duplicated=N baseline_rps=N
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import heapq
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import endpoint  # noqa: E402  (the baseline server and its closed-loop driver)
from bot.config import load_settings  # noqa: E402
from bot.wechat.simulate import WeChatSigner, message_xml  # noqa: E402

GREETINGS = ["你好", "您好", "在吗", "早上好", "你好呀", "谢谢", "好的"]
FOLLOW_UPS = ["跳过", "跳过", "确认"]
SESSION_GAP = 2.0  # seconds between one resident's messages
WECHAT_GIVES_UP = 5.0


# ---- the message mix ----------------------------------------------------------------------------

@dataclass
class Corpus:
    titles: list[str]
    sentences: list[str]
    queries: list[str]


def load_corpus(data: Path) -> Corpus:
    """Titles and first sentences from Teddy Cup, queries from SMP2017 (chat-sized ones)."""
    titles, sentences = [], []
    for name in ("messages_unlabeled.csv", "messages_labeled.csv"):
        with (data / "teddycup2020-gov-messages" / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if 4 <= len(row["title"]) <= 40:
                    titles.append(row["title"])
                first = re.split(r"[。！？!?]", row["text"].strip(), maxsplit=1)[0]
                if 6 <= len(first) <= 60:
                    sentences.append(first)
    with (data / "smp2017-ecdt-queries" / "queries.csv").open(encoding="utf-8") as handle:
        queries = [row["text"] for row in csv.DictReader(handle) if 1 <= len(row["text"]) <= 30]
    return Corpus(titles, sentences, queries)


def session(corpus: Corpus, rng: random.Random) -> list[str]:
    """One resident's visit; weights give about 45 % reports (with their follow-ups) by message."""
    roll = rng.random()
    if roll < 0.16:
        return [rng.choice(corpus.titles), *FOLLOW_UPS]
    if roll < 0.30:
        return [rng.choice(corpus.sentences)]
    if roll < 0.50:
        return [rng.choice(corpus.queries)]
    if roll < 0.70:
        return [rng.choice(GREETINGS)]
    if roll < 0.85:
        return ["我的积分"]
    return ["我的工单"]


@dataclass
class Message:
    due: float  # seconds after the start
    openid: str
    text: str
    msg_id: str
    params: dict | None = None
    body: bytes = b""


def schedule(corpus: Corpus, rate: float, seconds: float, residents: int, prefix: str, seed: int) -> list[Message]:
    """Slot k at k / rate goes to a session whose next message may be sent, else to a new one."""
    rng = random.Random(seed)
    waiting: list[tuple[float, int, str, list[str]]] = []
    messages, visitors = [], 0
    for k in range(int(rate * seconds)):
        due = k / rate
        if waiting and waiting[0][0] <= due:
            _, order, openid, rest = heapq.heappop(waiting)
        else:
            openid, rest, order = f"o_load_{visitors % residents:05d}", session(corpus, rng), k
            visitors += 1
        messages.append(Message(due, openid, rest[0], f"{prefix}{k:07d}"))
        if len(rest) > 1:
            heapq.heappush(waiting, (due + SESSION_GAP, order, openid, rest[1:]))
    return messages


def sign(messages: list[Message], signer: WeChatSigner) -> None:
    for message in messages:
        xml = message_xml(message.openid, "gh_bench", "text", {"Content": message.text}, msg_id=message.msg_id)
        signed = signer.sign_post(xml)
        message.params, message.body = signed.params, signed.body


# ---- the open-loop generator --------------------------------------------------------------------

@dataclass
class Result:
    message: Message
    latency: float | None  # seconds from the due time; None: no answer
    answer: str  # reply | success | error


async def run_open_loop(port: int, messages: list[Message], signer: WeChatSigner) -> tuple[list[Result], float, float]:
    """Send every message at its due time; returns the results, the run's length and the worst lag."""
    url = f"http://127.0.0.1:{port}/wechat/bench"
    results: list[Result] = []
    timeout = aiohttp.ClientTimeout(total=WECHAT_GIVES_UP)
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    loop = asyncio.get_running_loop()
    worst_lag = 0.0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        start = loop.time() + 0.2
        tasks = []
        for message in messages:
            delay = start + message.due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            worst_lag = max(worst_lag, -delay)
            tasks.append(asyncio.create_task(_post(http, url, message, start, signer, results)))
        await asyncio.gather(*tasks)
        elapsed = loop.time() - start
    return results, elapsed, worst_lag


async def _post(http, url, message: Message, start: float, signer: WeChatSigner, results: list[Result]) -> None:
    loop = asyncio.get_running_loop()
    try:
        async with http.post(url, params=message.params, data=message.body) as response:
            text = await response.text()
        latency = loop.time() - start - message.due
        if response.status != 200:
            results.append(Result(message, latency, "error"))
            return
        reply = signer.open_reply(text)
        results.append(Result(message, latency, "reply" if reply and reply.get("Content") else "success"))
    except (aiohttp.ClientError, asyncio.TimeoutError):
        results.append(Result(message, None, "error"))


# ---- the processes ------------------------------------------------------------------------------

def write_config(folder: Path, db_url: str, api_url: str) -> Path:
    config = folder / "load.toml"
    config.write_text(f"""
[server]
simulator = false
spool_dir = "{folder / 'spool'}"
[database]
url = "{db_url}"
pool_size = 10
[log]
level = "WARNING"
[wechat]
base_url = "{api_url}"
[outbox]
base_backoff_seconds = 0.2
max_backoff_seconds = 2.0
poll_interval_seconds = 1.0
[[communities]]
slug = "bench"
name = "压测社区"
[[accounts]]
name = "bench"
community = "bench"
appid = "{endpoint.APPID}"
secret = "bench-secret"
token = "{endpoint.TOKEN}"
encoding_aes_key = "{endpoint.AES_KEY}"
encryption = "safe"
""", encoding="utf-8")
    return config


def start(command: list[str], log: Path, **env: str) -> subprocess.Popen:
    with log.open("wb") as handle:
        return subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(ROOT), **env})


async def wait_workers(port: int, workers: int, process: subprocess.Popen, timeout: float = 120.0) -> set[int]:
    """Until /readyz answers and /healthz has answered from every worker."""
    pids: set[int] = set()
    until = time.monotonic() + timeout
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        while time.monotonic() < until and process.poll() is None:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    pids.add(int(response.headers["X-Linli-Worker"].split()[1]))
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200 and len(pids) == workers:
                        return pids
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not start {workers} workers")


def cpu_seconds(pids) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += endpoint.cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---- checking -----------------------------------------------------------------------------------

async def settle(db_url: str, timeout: float = 180.0) -> None:
    """Until every key is finished and the outbox holds nothing unsent."""
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import OutboxMessage, ProcessedMessage

    db = Database(db_url)
    until = time.monotonic() + timeout
    try:
        while time.monotonic() < until:
            async with db.sessions() as session:
                running = await session.scalar(select(func.count()).select_from(ProcessedMessage)
                                               .where(ProcessedMessage.status != "done"))
                unsent = await session.scalar(select(func.count()).select_from(OutboxMessage)
                                              .where(OutboxMessage.status.in_(("pending", "sending"))))
            if running == 0 and unsent == 0:
                return
            await asyncio.sleep(0.5)
        print(f"warning: not settled after {timeout:.0f}s (running={running} unsent={unsent})", flush=True)
    finally:
        await db.dispose()


async def database_counts(db_url: str) -> tuple[Counter, Counter, int]:
    """Inbound log rows per MsgId, finished keys per MsgId, tickets."""
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import MessageLog, ProcessedMessage
    from storage.ticket_models import Ticket

    db = Database(db_url)
    try:
        async with db.sessions() as session:
            inbound = Counter(dict((await session.execute(
                select(MessageLog.wechat_msg_id, func.count()).where(MessageLog.direction == "in")
                .group_by(MessageLog.wechat_msg_id))).all()))
            done = Counter(key.rsplit(":", 1)[-1] for (key,) in (await session.execute(
                select(ProcessedMessage.dedup_key).where(ProcessedMessage.status == "done"))).all())
            tickets = await session.scalar(select(func.count()).select_from(Ticket))
    finally:
        await db.dispose()
    return inbound, done, tickets


def count_losses(sent: list[Message], results: list[Result], inbound: Counter, done: Counter,
                 delivered: list[dict]) -> tuple[int, int]:
    """lost, duplicated: in the database per message, and at WeChat per resident."""
    lost = sum(1 for m in sent if inbound[m.msg_id] == 0 or done[m.msg_id] == 0)
    duplicated = sum(max(0, inbound[m.msg_id] - 1) + max(0, done[m.msg_id] - 1) for m in sent)
    expected, got = Counter(m.openid for m in sent), Counter()
    for result in results:
        if result.answer == "reply" and result.latency is not None and result.latency < WECHAT_GIVES_UP:
            got[result.message.openid] += 1
    for item in delivered:
        got[item["openid"]] += 1
    for openid, count in expected.items():
        lost += max(0, count - got[openid])
        duplicated += max(0, got[openid] - count)
    return lost, duplicated


async def deadline_misses(port: int) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    match = re.search(r"^linli_deadline_misses_total\s+([0-9.e+]+)", text, re.M)
    return int(float(match.group(1))) if match else 0


async def delivered_to_wechat(api_port: int) -> list[dict]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{api_port}/_fake/sent") as response:
        return await response.json()


# ---- the run ------------------------------------------------------------------------------------

async def linli_run(args, corpus: Corpus, folder: Path, db_url: str) -> dict:
    api_port, port = endpoint.free_port(), endpoint.free_port()
    api = start([sys.executable, "-m", "bot.wechat.fake_api", "--port", str(api_port)], folder / "fake_api.log")
    config = write_config(folder, db_url, f"http://127.0.0.1:{api_port}")
    metrics_dir = folder / "metrics"
    metrics_dir.mkdir()
    server = start([sys.executable, "-m", "bot.cli", "serve", "--config", str(config), "--port", str(port),
                    "--workers", str(args.workers)], folder / "server.log", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    try:
        workers = await wait_workers(port, args.workers, server)
        signer = WeChatSigner(load_settings(config, environ={}).accounts[0])
        warmup = schedule(corpus, args.rate, args.warmup, args.residents, "71", args.seed + 1)
        sign(warmup, signer)
        warm_results, _, _ = await run_open_loop(port, warmup, signer)
        await settle(db_url)
        return await measured(args, corpus, signer, port, api, api_port, workers, db_url, warmup, warm_results)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        api.terminate()
        api.wait(timeout=10)


async def measured(args, corpus, signer, port, api, api_port, workers, db_url, warmup, warm_results) -> dict:
    """The measured phase; lost and duplicated cover the warm-up's messages too."""
    messages = schedule(corpus, args.rate, args.seconds, args.residents, "72", args.seed)
    sign(messages, signer)
    cpu_before = _cpu_snapshot(workers, api)
    load_before = load_average()
    results, elapsed, worst_lag = await run_open_loop(port, messages, signer)
    cpu = {name: after - cpu_before[name] for name, after in _cpu_snapshot(workers, api).items()}
    load_after = load_average()
    await settle(db_url)
    inbound, done, tickets = await database_counts(db_url)
    delivered = [item for item in await delivered_to_wechat(api_port) if item["openid"].startswith("o_load_")]
    lost, duplicated = count_losses(warmup + messages, warm_results + results, inbound, done, delivered)
    latencies = [r.latency for r in results if r.latency is not None]
    dropped = sum(1 for r in results if r.latency is None or r.latency >= WECHAT_GIVES_UP)
    return {"sent": len(messages), "elapsed": elapsed, "worst_lag": worst_lag, "latencies": latencies,
            "answers": Counter(r.answer for r in results), "cpu": cpu, "load": (load_before, load_after),
            "misses": await deadline_misses(port) + dropped, "lost": lost,
            "duplicated": duplicated, "tickets": tickets, "cs": len(delivered)}


def _cpu_snapshot(workers, api) -> dict[str, float]:
    return {"workers": cpu_seconds(workers), "postgres": cpu_seconds(postgres_pids()), "fake_api": cpu_seconds([api.pid]),
            "generator": sum(os.times()[:2])}


def baseline_rps(args, folder: Path) -> float:
    signer = WeChatSigner(load_settings(write_config(folder, "sqlite+aiosqlite:///x.db", "http://127.0.0.1:9"),
                                        environ={}).accounts[0])
    warmup = endpoint.build_requests(500, "730", signer)
    requests = endpoint.build_requests(args.baseline_requests, "731", signer)
    rps, latencies, errors, cpu_ms = asyncio.run(endpoint.measure("baseline", folder / "load.toml", requests, warmup,
                                                                  50))
    print(f"baseline: rps={rps:.0f} p99_ms={endpoint.p99(latencies):.1f} cpu_ms_per_msg={cpu_ms:.3f} errors={errors}",
          flush=True)
    return rps


def report(run: dict, args) -> None:
    latencies = sorted(run["latencies"])
    cpu = run["cpu"]
    per_msg = {name: seconds * 1000 / run["sent"] for name, seconds in cpu.items()}
    print(f"linli: sent={run['sent']} in {run['elapsed']:.1f}s answers={dict(run['answers'])} "
          f"customer_service={run['cs']} tickets={run['tickets']} generator_worst_lag_ms={run['worst_lag'] * 1000:.1f}")
    print("cpu_ms_per_msg: " + " ".join(f"{name}={value:.2f}" for name, value in per_msg.items()))
    print(f"latency_ms: p50={_q(latencies, 50):.1f} p90={_q(latencies, 90):.1f} p99={_q(latencies, 99):.1f} "
          f"max={latencies[-1] * 1000:.1f}")
    print(f"load average: before {run['load'][0]}, after {run['load'][1]}", flush=True)


def _q(latencies: list[float], percent: int) -> float:
    return statistics.quantiles(latencies, n=100)[percent - 1] * 1000


def main(args: argparse.Namespace) -> None:
    from tests.postgres import TEMPLATE, running_cluster

    corpus = load_corpus(Path(args.data).resolve())
    print(f"corpus: {len(corpus.titles)} titles, {len(corpus.sentences)} sentences, {len(corpus.queries)} queries; "
          f"rate {args.rate}/s for {args.seconds}s, {args.workers} workers; load average {load_average()}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="linli-load-"))
    with running_cluster() as cluster:
        cluster.sql(f"CREATE DATABASE linli_load TEMPLATE {TEMPLATE}")
        run = asyncio.run(linli_run(args, corpus, folder, cluster.url("linli_load")))
    report(run, args)
    base = baseline_rps(args, folder)
    latencies = sorted(run["latencies"])
    print(f"rps={len(latencies) / run['elapsed']:.0f} p50_ms={_q(latencies, 50):.1f} p99_ms={_q(latencies, 99):.1f} "
          f"deadline_misses={run['misses']} lost={run['lost']} duplicated={run['duplicated']} "
          f"baseline_rps={base:.0f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=300.0, help="messages per second, open loop")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds at the rate before measuring")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--baseline-requests", type=int, default=6000)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"),
                        help="the shared data folder (default: ../shared/data beside the repo)")
    main(parser.parse_args())
