"""Ticket numbers: Asia/Shanghai day + daily sequence, unique per community even under concurrency."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from storage import communities
from storage.db import Database
from storage.models import Resident
from storage.ticket_models import Ticket
from storage.tickets import create_ticket
from storage.tickets.numbering import next_number
from tests.tickets.conftest import build_world, draft, file_ticket


async def test_numbers_follow_the_shanghai_day_and_restart_each_day(db, world, settings):
    late_evening_utc = datetime(2026, 11, 23, 15, 59, tzinfo=timezone.utc)  # 23:59 in Shanghai
    after_midnight = datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)  # 00:00 on the 24th
    first = await file_ticket(db, world, settings, late_evening_utc)
    second = await file_ticket(db, world, settings, late_evening_utc)
    third = await file_ticket(db, world, settings, after_midnight)
    assert [first.number, second.number, third.number] == ["20261123-0001", "20261123-0002", "20261124-0001"]


async def test_each_community_counts_its_own(db, world):
    now = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    async with db.sessions.begin() as session:
        other = (await communities.ensure(session, [("other", "另一个社区")]))["other"]
    async with db.sessions.begin() as session:
        numbers = [await next_number(session, community_id=cid, now=now)
                   for cid in (world.community_id, other, world.community_id)]
    assert numbers == ["20261123-0001", "20261123-0001", "20261123-0002"]


async def test_the_same_source_key_files_one_ticket(db, world, settings, clock):
    first = await file_ticket(db, world, settings, clock(), source_key="test:o_li:123456")
    again = await file_ticket(db, world, settings, clock(), source_key="test:o_li:123456")
    assert again.id == first.id and again.number == first.number
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert (await file_ticket(db, world, settings, clock())).number.endswith("-0002")  # no number was used up


async def _create_many(databases: list[Database], world, settings, now, count: int) -> list[str]:
    async def one(index: int) -> str:
        database = databases[index % len(databases)]
        async with database.sessions.begin() as session:
            reporter = await session.get(Resident, world["reporter"].id)
            ticket = await create_ticket(session, community_id=world.community_id, reporter=reporter,
                                         draft=draft(world, description=f"第{index}个报修"), now=now,
                                         settings=settings)
            return ticket.number

    return await asyncio.gather(*(one(i) for i in range(count)))


@pytest.mark.backend_specific
async def test_concurrent_creation_on_sqlite_gives_distinct_consecutive_numbers(db, db_url, world, settings, clock):
    others = [Database(db_url), Database(db_url)]  # three connections, as three processes would have
    try:
        numbers = await _create_many([db, *others], world, settings, clock(), 12)
    finally:
        for other in others:
            await other.dispose()
    assert sorted(numbers) == [f"20261123-{n:04d}" for n in range(1, 13)]


@pytest.mark.backend_specific
async def test_concurrent_creation_on_postgres_gives_distinct_consecutive_numbers(pg_db, settings, clock):
    world = await build_world(pg_db)
    numbers = await _create_many([pg_db], world, settings, clock(), 20)
    assert sorted(numbers) == [f"20261123-{n:04d}" for n in range(1, 21)]


@pytest.mark.backend_specific
async def test_on_postgres_a_creation_does_not_wait_for_another_still_open(pg_db, settings, clock):
    """The day's counter is taken in a statement of its own: a transaction still filing its ticket
    (routing, notices, the dialog…) does not hold the other residents' tickets up."""
    world = await build_world(pg_db)
    async with pg_db.sessions.begin() as session:
        reporter = await session.get(Resident, world["reporter"].id)
        first = await create_ticket(session, community_id=world.community_id, reporter=reporter,
                                    draft=draft(world, description="先提交的报修"), now=clock(), settings=settings)
        # Without the separate statement this waits on the counter row until the block ends: a deadlock here.
        [second] = await asyncio.wait_for(_create_many([pg_db], world, settings, clock(), 1), timeout=30)
    assert (first.number, second) == ("20261123-0001", "20261123-0002")
