"""Points tests: the app on a clock the test moves, and a `staff` helper that does what the
console will (create activities and items, give points) straight through storage/points.

The clock starts on Monday 2026-11-23 10:00 in Shanghai. Neither the scheduler nor the outbox
worker runs in the background: tests run the jobs themselves, and `drain_outbox` sends what is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot import keys
from bot.outbox_worker import OutboxWorker
from bot.texts.points import LOCAL
from storage.models import Building, Grid, Resident
from storage.points import activities, ledger, mall
from storage.points_models import Activity, MallItem

START = datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def set(self, now: datetime) -> None:
        self.now = now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
async def app_client(aiohttp_client, settings, nlu_engine, clock):
    from bot.app import create_app

    return await aiohttp_client(create_app(settings, nlu=nlu_engine, clock=clock, scheduler=False,
                                           outbox_worker=False))


@pytest.fixture
def services(app_client):
    return app_client.app[keys.SERVICES]


@pytest.fixture
def drain_outbox(app_client, services):
    """Send everything due, now (no worker runs in the background, so nothing races the test)."""
    worker = OutboxWorker(services.db, services.settings, app_client.app[keys.APIS], clock=services.clock)
    return worker.drain


class Staff:
    """Staff-side operations, each in its own transaction, as the console will do them."""

    def __init__(self, db, community_id: int, clock: Clock) -> None:
        self.db = db
        self.community_id = community_id
        self.clock = clock

    async def resident(self, openid: str, *, name: str | None = None, building: str | None = None,
                       grid: str | None = None) -> int:
        """The resident's id, created if they have not written yet; optionally housed in a grid."""
        async with self.db.sessions.begin() as session:
            resident = await session.scalar(select(Resident).where(Resident.community_id == self.community_id,
                                                                   Resident.openid == openid))
            if resident is None:
                resident = Resident(community_id=self.community_id, openid=openid, roles=[], subscribed=True,
                                    created_at=self.clock())
                session.add(resident)
            resident.name = name or resident.name
            if building:
                resident.building_id = await self._building(session, building, grid or "第一网格")
            await session.flush()
            return resident.id

    async def _building(self, session, name: str, grid_name: str) -> int:
        grid = await session.scalar(select(Grid).where(Grid.community_id == self.community_id, Grid.name == grid_name))
        if grid is None:
            grid = Grid(community_id=self.community_id, name=grid_name)
            session.add(grid)
            await session.flush()
        building = await session.scalar(select(Building).where(Building.community_id == self.community_id,
                                                               Building.name == name))
        if building is None:
            building = Building(community_id=self.community_id, name=name, grid_id=grid.id)
            session.add(building)
            await session.flush()
        return building.id

    async def give(self, openid: str, points: int, reason: str = "参加社区活动", key: str | None = None,
                   at: datetime | None = None) -> int:
        resident_id = await self.resident(openid)
        async with self.db.sessions.begin() as session:
            return await ledger.award(session, community_id=self.community_id, resident_id=resident_id, points=points,
                                      reason=reason, source_key=key or f"test:{openid}:{points}:{reason}:{at}",
                                      now=at or self.clock())

    async def balance(self, openid: str) -> ledger.Balance:
        resident_id = await self.resident(openid)
        async with self.db.sessions() as session:
            return await ledger.balance(session, resident_id)

    async def item(self, name: str = "洗衣液", cost: int = 30, stock: int = 5) -> MallItem:
        async with self.db.sessions.begin() as session:
            return await mall.add_item(session, community_id=self.community_id, name=name, cost=cost, stock=stock,
                                       actor="王主任", now=self.clock())

    async def activity(self, title: str = "清洁家园", *, starts_in: timedelta = timedelta(days=2),
                       hours: float = 2, capacity: int = 10, points: int | None = 20, **extra) -> Activity:
        starts_at = self.clock() + starts_in
        async with self.db.sessions.begin() as session:
            return await activities.create(session, community_id=self.community_id, title=title, place="社区广场",
                                           starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours),
                                           capacity=capacity, points=points, actor="王主任", now=self.clock(),
                                           per_hour=10, **extra)

    async def get(self, model, row_id: int):
        async with self.db.sessions() as session:
            return await session.get(model, row_id)


@pytest.fixture
def staff(services, clock) -> Staff:
    return Staff(services.db, services.community_ids["test"], clock)
