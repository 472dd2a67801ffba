"""Several schedulers on one database send every reminder exactly once: on one SQLite file (two
engines, each in a thread of its own, as two processes would be) and on PostgreSQL (several
engines at once: FOR UPDATE SKIP LOCKED). Also on PostgreSQL: a binding code raced for by two
people binds one, and two schedulers escalate a missed visit once."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot import reminder_jobs
from bot.services import Services
from storage import communities, reminders
from storage.db import Database
from storage.member_models import CareHousehold, Reminder, Visit
from storage.members import codes
from storage.models import OutboxMessage, Resident
from storage.reminders import Due
from tests.members.conftest import START, add_household, build_place, member_settings

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


async def test_two_schedulers_on_one_sqlite_file_send_each_reminder_once(db_url):
    now = START
    ids = await seed(db_url, N, now)
    threads = [in_thread(lambda: scheduler_run(db_url, ids, now, batch_size=50)) for _ in range(2)]
    for thread in threads:
        await asyncio.to_thread(thread.join)
    sent_by_each = [thread.results[0] for thread in threads]
    assert sum(sent_by_each) == N
    assert await outcome(db_url) == (N, N, N, {"sent"})


async def test_schedulers_on_postgresql_send_each_reminder_once(pg_url):
    now = START
    ids = await seed(pg_url, N, now)
    sent_by_each = await asyncio.gather(*(scheduler_run(pg_url, ids, now, batch_size=50) for _ in range(4)))
    assert sum(sent_by_each) == N
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
