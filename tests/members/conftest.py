"""Member-household tests: the app on a clock the test moves, a small neighbourhood, and helpers to
file tickets, register care households, run the reminder tick and read what was queued.

The clock starts on Monday 2026-11-23 10:00 in Shanghai. The app runs without its scheduler (the
tests tick the real job code themselves, at the times they choose) and with the outbox worker.

The neighbourhood (one grid, 第一网格, buildings 1栋–5栋):

    张建国 o_member  lives in 3栋, member household of 3栋 and (linked) 5栋
    王志强 o_other   lives in 2栋, member household of 2栋
    刘芳   o_grid    lives in 1栋, grid worker of 第一网格
    李秀英 o_li      lives in 3栋, a resident who reports things
    staff  o_staff   an openid in [tickets.teams.test] staff (never wrote to us)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import keys, reminder_jobs
from storage.member_models import CareHousehold, Reminder, Visit
from storage.members import care
from storage.models import Building, Grid, OutboxMessage, Resident
from storage.reminders import LOCAL
from storage.ticket_models import Ticket
from storage.tickets import TicketDraft, create_ticket, link_member_household
from tests.conftest import make_settings

START = datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL)  # a Monday
STAFF = "o_staff"


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, *args: int) -> datetime:
        """Local (Shanghai) wall-clock time: set(2026, 11, 24, 8, 0)."""
        self.now = datetime(*args, tzinfo=LOCAL)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def member_settings(db_url: str, api_base_url: str = "http://127.0.0.1:9", **sections):
    return make_settings(db_url, api_base_url, tickets={"teams": {"test": {"staff": [STAFF]}}}, **sections)


@pytest.fixture
def settings(db_url, fake_wechat):
    return member_settings(db_url, fake_wechat.base_url)


@pytest.fixture
async def app_client(aiohttp_client, settings, nlu_engine, clock):
    from bot.app import create_app

    return await aiohttp_client(create_app(settings, nlu=nlu_engine, clock=clock, scheduler=False))


@pytest.fixture
def services(app_client):
    return app_client.server.app[keys.SERVICES]


@dataclass
class Place:
    community_id: int
    buildings: dict[str, int]
    grid_id: int
    people: dict[str, int]  # openid → resident id


async def build_place(db, community_id: int) -> Place:
    async with db.sessions.begin() as session:
        grid = Grid(community_id=community_id, name="第一网格")
        session.add(grid)
        await session.flush()
        buildings = {name: Building(community_id=community_id, grid_id=grid.id, name=name)
                     for name in ("1栋", "2栋", "3栋", "4栋", "5栋")}
        session.add_all(buildings.values())
        await session.flush()
        people = {}
        for openid, name, building, room, roles in (
                ("o_member", "张建国", "3栋", "502", ["member_household"]),
                ("o_other", "王志强", "2栋", "602", ["member_household"]),
                ("o_grid", "刘芳", "1栋", "101", ["grid_worker"]),
                ("o_li", "李秀英", "3栋", "301", [])):
            resident = Resident(community_id=community_id, openid=openid, name=name, building_id=buildings[building].id,
                                unit=1, room=room, roles=roles, subscribed=True)
            session.add(resident)
            await session.flush()
            people[openid] = resident.id
        await link_member_household(session, community_id=community_id, resident_id=people["o_member"],
                                    building_id=buildings["5栋"].id)
    return Place(community_id, {name: b.id for name, b in buildings.items()}, grid.id, people)


@pytest.fixture
async def place(services) -> Place:
    return await build_place(services.db, services.community_ids["test"])


# ---- doing things as staff / the system -------------------------------------------------------

async def file_ticket(services, place: Place, *, reporter: str = "o_li", description: str = "3栋2单元楼道灯不亮",
                      building: str = "3栋", category: str = "lighting") -> Ticket:
    """A blue repair in ``building``: routed to its member household."""
    async with services.db.sessions.begin() as session:
        resident = await session.get(Resident, place.people[reporter])
        draft = TicketDraft(kind="repair", category=category, description=description,
                            building_id=place.buildings[building])
        return await create_ticket(session, community_id=place.community_id, reporter=resident, draft=draft,
                                   now=services.clock(), settings=services.settings)


async def add_household(services, place: Place, *, name: str = "王奶奶", building: str = "5栋", room: str = "301",
                        member: str | None = "o_member", every: str = "weekly", anchor: date | None = None,
                        hour: int | None = None, quiet: tuple[str, str] | None = None) -> CareHousehold:
    async with services.db.sessions.begin() as session:
        visitor = await session.get(Resident, place.people[member]) if member else None
        plan = care.Plan(every, anchor or services.clock().astimezone(LOCAL).date(), hour,
                         *(quiet or (None, None)))
        return await care.add_household(session, community_id=place.community_id, name=name,
                                        category="elderly_alone", building_id=place.buildings[building], room=room,
                                        member=visitor, plan=plan, now=services.clock(), settings=services.settings)


async def tick(services) -> int:
    """One run of the scheduler's reminder job, at the clock's time."""
    return await reminder_jobs.tick(services)


# ---- reading what happened --------------------------------------------------------------------

async def outbox_to(db, openid: str, notice_kind: str | None = None) -> list[OutboxMessage]:
    async with db.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.openid == openid)
        if notice_kind is not None:
            query = query.where(OutboxMessage.notice_kind == notice_kind)
        return list(await session.scalars(query.order_by(OutboxMessage.id)))


def texts_of(rows: list[OutboxMessage]) -> list[str]:
    return [row.payload.get("content") or row.payload.get("fallback_from", {}).get("payload", {}).get("content")
            for row in rows]


async def visits_of(db, household_id: int) -> list[Visit]:
    async with db.sessions() as session:
        return list(await session.scalars(select(Visit).where(Visit.care_household_id == household_id)
                                          .order_by(Visit.due_date)))


async def reminders_of(db, **where) -> list[Reminder]:
    async with db.sessions() as session:
        query = select(Reminder).filter_by(**where).order_by(Reminder.due_at, Reminder.id)
        return list(await session.scalars(query))


async def load(db, model, row_id: int):
    async with db.sessions() as session:
        return await session.get(model, row_id)


async def resident(db, openid: str) -> Resident:
    async with db.sessions() as session:
        return await session.scalar(select(Resident).where(Resident.openid == openid))


@pytest.fixture
async def jobs(db, settings, clock):
    """Services for running jobs without the web app (as `linli scheduler` does)."""
    from bot.services import Services
    from storage import communities

    async with db.sessions.begin() as session:
        ids = await communities.ensure(session, [("test", "测试社区")])
    return Services(settings=settings, db=db, nlu=None, community_ids=ids, clock=clock)
