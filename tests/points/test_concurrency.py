"""Stock, balances, seats and awards stay correct when many transactions run at once — on SQLite
(one connection, transactions queue) and on PostgreSQL (truly concurrent transactions, each on
its own connection, where a read-then-write would oversell)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from storage import communities
from storage.db import Database
from storage.models import Resident
from storage.points import activities, ledger, mall
from storage.points_models import (
    Activity,
    ActivitySignup,
    MallItem,
    MallOrder,
    PointsEntry,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)

pytestmark = pytest.mark.backend_specific  # both backends, chosen here


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
async def database(database_url):
    db = Database(database_url, pool_size=30)  # PostgreSQL: up to 60 connections, so all 50 really overlap
    yield db
    await db.dispose()


async def _setup(db, residents: int, points: int) -> tuple[int, list[int]]:
    async with db.sessions.begin() as session:
        community_id = (await communities.ensure(session, [("test", "测试社区")]))["test"]
        people = [Resident(community_id=community_id, openid=f"o_{n}", roles=[], subscribed=True)
                  for n in range(residents)]
        session.add_all(people)
        await session.flush()
        ids = [p.id for p in people]
        for resident_id in ids:
            await ledger.award(session, community_id=community_id, resident_id=resident_id, points=points,
                               reason="初始积分", source_key=f"seed:{resident_id}", now=NOW)
        return community_id, ids


async def _at_once(*jobs) -> list:
    """Start every job together; each runs in its own transaction."""
    gate = asyncio.Event()

    async def run(job):
        await gate.wait()
        return await job()
    tasks = [asyncio.create_task(run(job)) for job in jobs]
    gate.set()
    return await asyncio.gather(*tasks)


def _redeem(db, community_id, resident_id, item_id, key):
    async def job():
        try:
            async with db.sessions.begin() as session:
                return await mall.redeem(session, community_id=community_id, resident_id=resident_id,
                                         item_id=item_id, source_key=key, now=NOW)
        except (mall.OutOfStock, ledger.InsufficientPoints) as exc:
            return type(exc).__name__
    return job


async def _scalar(db, statement):
    async with db.sessions() as session:
        return await session.scalar(statement)


async def test_fifty_redemptions_of_ten_in_stock_make_exactly_ten_orders(database):
    community_id, people = await _setup(database, 50, 100)
    async with database.sessions.begin() as session:
        item = await mall.add_item(session, community_id=community_id, name="大米", cost=30, stock=10, actor="王主任",
                                   now=NOW)
    results = await _at_once(*(_redeem(database, community_id, rid, item.id, f"m:{rid}") for rid in people))
    assert sum(isinstance(r, MallOrder) for r in results) == 10
    assert results.count("OutOfStock") == 40
    assert await _scalar(database, select(func.count()).select_from(MallOrder)) == 10
    assert await _scalar(database, select(MallItem.stock).where(MallItem.id == item.id)) == 0
    balances = [await _scalar(database, select(func.sum(PointsEntry.delta)).where(PointsEntry.resident_id == rid))
                for rid in people]
    assert sorted(balances) == [70] * 10 + [100] * 40
    async with database.sessions() as session:
        assert await ledger.inconsistencies(session, community_id) == []


async def test_parallel_redemptions_never_overdraw_one_balance(database):
    community_id, (resident_id,) = await _setup(database, 1, 100)
    async with database.sessions.begin() as session:
        item = await mall.add_item(session, community_id=community_id, name="洗衣液", cost=30, stock=50, actor="王主任",
                                   now=NOW)
    results = await _at_once(*(_redeem(database, community_id, resident_id, item.id, f"m:{n}") for n in range(20)))
    assert sum(isinstance(r, MallOrder) for r in results) == 3
    assert results.count("InsufficientPoints") == 17
    async with database.sessions() as session:
        assert await ledger.balance(session, resident_id) == ledger.Balance(10, 100)
        assert await ledger.inconsistencies(session, community_id) == []
    assert await _scalar(database, select(MallItem.stock).where(MallItem.id == item.id)) == 47  # refused ones put back


async def test_the_same_award_at_once_applies_once(database):
    community_id, (resident_id,) = await _setup(database, 1, 1)

    def award():
        async def job():
            async with database.sessions.begin() as session:
                return await ledger.award(session, community_id=community_id, resident_id=resident_id, points=20,
                                          reason="参加志愿活动：清洁家园", source_key="activity:1:attend:1", now=NOW)
        return job
    results = await _at_once(*(award() for _ in range(10)))
    assert sum(r is not None for r in results) == 1
    async with database.sessions() as session:
        assert await ledger.balance(session, resident_id) == ledger.Balance(21, 21)


async def _activity(db, community_id, capacity) -> Activity:
    async with db.sessions.begin() as session:
        return await activities.create(session, community_id=community_id, title="清洁家园", place="社区广场",
                                       starts_at=NOW + timedelta(days=2), ends_at=NOW + timedelta(days=2, hours=2),
                                       capacity=capacity, points=20, actor="王主任", now=NOW)


def _sign_up(db, activity, resident_id):
    async def job():
        async with db.sessions.begin() as session:
            return await activities.sign_up(session, activity=activity, resident_id=resident_id, now=NOW)
    return job


async def _seats(db, activity_id) -> tuple[int, int, int]:
    """(taken seats on the activity, confirmed sign-ups, waitlisted sign-ups)."""
    async with db.sessions() as session:
        taken = await session.scalar(select(Activity.confirmed).where(Activity.id == activity_id))
        counts = dict((await session.execute(select(ActivitySignup.status, func.count())
                                             .where(ActivitySignup.activity_id == activity_id)
                                             .group_by(ActivitySignup.status))).all())
    return taken, counts.get("confirmed", 0), counts.get("waitlisted", 0)


async def test_concurrent_sign_ups_never_overfill_an_activity(database):
    community_id, people = await _setup(database, 30, 1)
    activity = await _activity(database, community_id, capacity=5)
    outcomes = await _at_once(*(_sign_up(database, activity, rid) for rid in people))
    assert outcomes.count(activities.Outcome.CONFIRMED) == 5
    assert outcomes.count(activities.Outcome.WAITLISTED) == 25
    assert await _seats(database, activity.id) == (5, 5, 25)


async def test_concurrent_cancellations_promote_each_waiting_resident_once(database):
    community_id, people = await _setup(database, 10, 1)
    activity = await _activity(database, community_id, capacity=5)
    for rid in people:  # the first five get seats, the rest wait in this order
        await _sign_up(database, activity, rid)()

    def cancel(resident_id):
        async def job():
            async with database.sessions.begin() as session:
                return await activities.cancel(session, activity=activity, resident_id=resident_id, now=NOW)
        return job
    results = await _at_once(*(cancel(rid) for rid in people[:5]))
    promoted = [p.resident_id for cancelled, promotions in results for p in promotions]
    assert all(cancelled for cancelled, _ in results)
    assert sorted(promoted) == sorted(people[5:])
    assert await _seats(database, activity.id) == (5, 5, 0)
