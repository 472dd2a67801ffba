"""Several schedulers on one database send every reminder exactly once: on one SQLite file (two
engines, each in a thread of its own) and on PostgreSQL (two OS processes running the real job
at once: FOR UPDATE SKIP LOCKED). Also on PostgreSQL: a binding code raced for by two people
binds one, two schedulers escalate a missed visit once, and two schedulers ticking through a week
of reminders, 督办 and digests send exactly what one does."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot import reminder_jobs
from bot.services import Services
from storage import communities, reminders
from storage.db import Database
from storage.member_models import CareHousehold, Reminder, Visit
from storage.members import codes
from storage.models import OutboxMessage, Resident
from storage.reminders import Due
from tests.members.conftest import START, Clock, add_household, build_place, file_ticket, member_settings

N = 3000


async def seed(url: str, count: int, now: datetime) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.sessions.begin() as session:
            ids = await communities.ensure(session, [("test", "测试社区")])
            await reminders.schedule(session, [
                Due(ids["test"], "note", f"n:{i}", "test", f"o_{i % 300}", now - timedelta(seconds=i % 90),
                    key=f"race:{i}", payload={"content": f"第{i}条", "notice_kind": "reply"})
                for i in range(count)], now=now)
        return ids
    finally:
        await db.dispose()


async def scheduler_run(url: str, ids: dict[str, int], now: datetime, batch_size: int) -> int:
    """One scheduler: its own engine, sending until nothing is due."""
    db = Database(url)
    settings = member_settings(url, reminders={"batch_size": batch_size})
    try:
        return await reminder_jobs.send_due(Services(settings=settings, db=db, nlu=None, community_ids=ids,
                                                     clock=lambda: now))
    finally:
        await db.dispose()


async def outcome(url: str) -> tuple[int, int, int, set[str]]:
    """(outbox rows, distinct keys, reminders sent, statuses)."""
    db = Database(url)
    try:
        async with db.sessions() as session:
            rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
            keys = await session.scalar(select(func.count(func.distinct(OutboxMessage.idempotency_key))))
            sent = await session.scalar(select(func.count()).select_from(Reminder).where(Reminder.status == "sent"))
            statuses = set(await session.scalars(select(Reminder.status).distinct()))
        return rows, keys, sent, statuses
    finally:
        await db.dispose()


def in_thread(work) -> threading.Thread:
    results: list = []
    thread = threading.Thread(target=lambda: results.append(asyncio.run(work())))
    thread.results = results
    thread.start()
    return thread


async def test_two_schedulers_on_one_sqlite_file_send_each_reminder_once(sqlite_url):
    now = START
    ids = await seed(sqlite_url, N, now)
    threads = [in_thread(lambda: scheduler_run(sqlite_url, ids, now, batch_size=50)) for _ in range(2)]
    for thread in threads:
        await asyncio.to_thread(thread.join)
    sent_by_each = [thread.results[0] for thread in threads]
    assert sum(sent_by_each) == N
    assert await outcome(sqlite_url) == (N, N, N, {"sent"})


async def scheduler_processes(url: str, now: datetime, count: int, batch_size: int) -> list[int]:
    """``count`` OS processes (tests/members/scheduler_process.py), each running the real job on
    its own connection, released at once; returns how many each sent."""
    root = Path(__file__).resolve().parents[2]
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.members.scheduler_process", url, now.isoformat(), str(batch_size), cwd=root,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE) for _ in range(count)]
    for proc in procs:
        assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
    for proc in procs:
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    outputs = [await asyncio.wait_for(proc.communicate(), 120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * count
    return [json.loads(out.strip().splitlines()[-1])["sent"] for out, _ in outputs]


async def test_two_scheduler_processes_on_postgresql_send_each_reminder_once(pg_url):
    now = START
    await seed(pg_url, N, now)
    sent_by_each = await scheduler_processes(pg_url, now, count=2, batch_size=50)
    assert sum(sent_by_each) == N and all(sent_by_each)  # both took part, nothing twice
    assert await outcome(pg_url) == (N, N, N, {"sent"})


async def test_a_code_raced_for_on_postgresql_binds_exactly_one_person(pg_url):
    db = Database(pg_url)
    settings = member_settings(pg_url)
    try:
        async with db.sessions.begin() as session:
            community_id = (await communities.ensure(session, [("test", "测试社区")]))["test"]
            people = [Resident(community_id=community_id, openid=f"o_{i}", roles=[], subscribed=True) for i in range(6)]
            session.add_all(people)
            await session.flush()
            code = (await codes.issue(session, community_id=community_id, role="grid_worker", now=START,
                                      settings=settings.members)).code

        async def redeem(resident_id: int):
            async with db.sessions.begin() as session:
                return await codes.redeem(session, community_id=community_id, code=code, resident_id=resident_id,
                                          now=START)
        results = await asyncio.gather(*(redeem(person.id) for person in people))
        assert sum(result is not None for result in results) == 1
    finally:
        await db.dispose()


async def test_two_schedulers_on_postgresql_escalate_a_missed_visit_once(pg_url, clock):
    settings = member_settings(pg_url)
    dbs = [Database(pg_url) for _ in range(2)]
    try:
        async with dbs[0].sessions.begin() as session:
            ids = await communities.ensure(session, [("test", "测试社区")])
        place = await build_place(dbs[0], ids["test"])
        services = [Services(settings=settings, db=db, nlu=None, community_ids=ids, clock=clock) for db in dbs]
        households = [await add_household(services[0], place, name=f"住户{i}", room=f"{301 + i}") for i in range(5)]
        clock.advance(days=settings.members.escalation_days, hours=1)
        escalated = await asyncio.gather(*(reminder_jobs.advance_visits(s) for s in services))
        assert sum(escalated) == len(households)
        async with dbs[0].sessions() as session:
            missed = await session.scalar(select(func.count()).select_from(Visit).where(Visit.status == "missed"))
            open_ = await session.scalar(select(func.count()).select_from(Visit).where(Visit.status == "open"))
            alerts = await session.scalar(select(func.count()).select_from(Reminder)
                                          .where(Reminder.kind == "visit_escalation"))
            active = await session.scalar(select(func.count()).select_from(CareHousehold))
        assert (missed, open_, alerts) == (5, 5, 5 * 2)  # grid worker + staff, for each household
        assert active == 5
    finally:
        for db in dbs:
            await db.dispose()


async def a_week_of_ticks(url: str, clock, schedulers: int) -> Counter:
    """Households, a ticket and a week of ticks (reminders, second reminders, 督办, escalations,
    digests) with ``schedulers`` ticking at once; what each person was sent, counted."""
    settings = member_settings(url, reminders={"batch_size": 3})
    dbs = [Database(url) for _ in range(schedulers)]
    try:
        async with dbs[0].sessions.begin() as session:
            ids = await communities.ensure(session, [("test", "测试社区")])
        place = await build_place(dbs[0], ids["test"])
        services = [Services(settings=settings, db=db, nlu=None, community_ids=ids, clock=clock) for db in dbs]
        for i in range(8):
            await add_household(services[0], place, name=f"住户{i}", room=f"{301 + i}", anchor=date(2026, 11, 24))
        await file_ticket(services[0], place)
        for moment in ((2026, 11, 24, 8, 0), (2026, 11, 24, 9, 0), (2026, 11, 26, 9, 0), (2026, 11, 28, 9, 0),
                       (2026, 11, 29, 8, 0), (2026, 12, 1, 9, 0), (2026, 12, 3, 3, 0), (2026, 12, 3, 8, 0)):
            clock.set(*moment)
            await asyncio.gather(*(reminder_jobs.tick(s) for s in services))
        async with dbs[0].sessions() as session:
            rows = (await session.execute(select(OutboxMessage.openid, OutboxMessage.payload))).all()
        return Counter((openid, payload.get("content") or str(payload)) for openid, payload in rows)
    finally:
        for db in dbs:
            await db.dispose()


async def test_two_schedulers_ticking_for_a_week_on_postgresql_send_what_one_sends(sqlite_url, pg_url):
    one = await a_week_of_ticks(sqlite_url, Clock(), 1)
    two = await a_week_of_ticks(pg_url, Clock(), 2)
    assert sum(one.values()) > 40  # due-day and second reminders, escalations, digests, 督办
    assert two == one
