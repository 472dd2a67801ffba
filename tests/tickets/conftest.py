"""Fixtures for the ticket tests: a small neighbourhood on the real database, settings with staff
teams and templates, a controllable clock, and helpers to file tickets and read the outbox.

The neighbourhood:

    第一网格: 1栋 (member household 张建国 lives there), 2栋 (nobody looks after it)
              grid worker 刘芳 lives in 2栋
    第二网格: 3栋 — no member household, no grid worker: tickets fall to staff
    第三网格: 4栋 — looked after by 张建国 through a link (member_household_buildings)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import validate
from storage import communities
from storage.db import Database
from storage.models import Building, Grid, OutboxMessage, Resident
from storage.ticket_models import Ticket, TicketEvent
from storage.tickets import TicketDraft, create_ticket, join_ticket, link_member_household
from tests.conftest import make_settings

# Monday 2026-11-23 10:00 in Asia/Shanghai.
START = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)

STAFF = ["o_staff_wang", "o_staff_zhou"]
MEDIATION = ["o_lawyer_sun"]
STREET = ["o_street_he"]


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def ticket_settings(db_url: str, api_base_url: str = "http://127.0.0.1:9", *, teams: dict | None = None,
                    templates: bool = True, **tickets: Any):
    data = make_settings(db_url, api_base_url).model_dump()
    data["tickets"].update(tickets)
    default_teams = {"test": {"staff": STAFF, "mediation": MEDIATION, "street": STREET}}
    data["tickets"]["teams"] = default_teams if teams is None else teams
    if templates:
        fields = {"first": "title", "keyword1": "number", "keyword2": "status", "remark": "content"}
        for kind in ("ticket_status", "ticket_task", "ticket_alert"):
            data["accounts"][0]["templates"][kind] = {"template_id": f"TPL_{kind.upper()}", "fields": fields}
    return validate(data)


@pytest.fixture
def settings(db_url):
    """Without a WeChat API: tests that send through the outbox worker ask for fake_wechat too."""
    return ticket_settings(db_url)


@dataclass
class World:
    community_id: int
    grids: dict[str, int]
    buildings: dict[str, int]
    people: dict[str, Resident] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Resident:
        return self.people[name]


PEOPLE = {
    # name: (openid, building, roles, phone)
    "reporter": ("o_li", "1栋", [], "13807100002"),
    "neighbour": ("o_zhao", "1栋", [], None),
    "member": ("o_zhang", "1栋", ["member_household"], "13807100001"),
    "grid_worker": ("o_liu", "2栋", ["grid_worker"], "13807100004"),
    "resident3": ("o_yang", "3栋", [], None),
    "staff": (STAFF[0], None, [], None),  # a staff member who has also written to the account
}


@pytest.fixture
async def world(db) -> World:
    return await build_world(db)


async def build_world(db) -> World:
    async with db.sessions.begin() as session:
        community_id = (await communities.ensure(session, [("test", "测试社区")]))["test"]
        grids = {}
        for name in ("第一网格", "第二网格", "第三网格"):
            grid = Grid(community_id=community_id, name=name)
            session.add(grid)
            await session.flush()
            grids[name] = grid.id
        buildings = {}
        for name, grid in (("1栋", "第一网格"), ("2栋", "第一网格"), ("3栋", "第二网格"), ("4栋", "第三网格")):
            building = Building(community_id=community_id, name=name, grid_id=grids[grid])
            session.add(building)
            await session.flush()
            buildings[name] = building.id
        world = World(community_id, grids, buildings)
        for name, (openid, building, roles, phone) in PEOPLE.items():
            person = Resident(community_id=community_id, openid=openid, name=name, phone=phone, roles=roles,
                              building_id=buildings.get(building), unit=1, room="301", subscribed=True,
                              last_inbound_at=START - timedelta(hours=1), created_at=START - timedelta(days=30))
            session.add(person)
            await session.flush()
            world.people[name] = person
        await link_member_household(session, community_id=community_id, resident_id=world["member"].id,
                                    building_id=buildings["4栋"])
    return world


def draft(world: World, **values: Any) -> TicketDraft:
    base: dict[str, Any] = dict(kind="repair", category="lighting", description="1栋2单元楼道灯坏了",
                                building_id=world.buildings["1栋"], unit="2", room=None)
    base.update(values)
    return TicketDraft(**base)


async def file_ticket(db, world: World, settings, now: datetime, *, reporter: str = "reporter", **values: Any):
    async with db.sessions.begin() as session:
        resident = await session.get(Resident, world[reporter].id)
        return await create_ticket(session, community_id=world.community_id, reporter=resident,
                                   draft=draft(world, **values), now=now, settings=settings)


async def join(db, world: World, ticket_id: int, name: str) -> bool:
    """``name`` joins the ticket as a reporter (the duplicate-report path)."""
    async with db.sessions.begin() as session:
        return await join_ticket(session, ticket=await session.get(Ticket, ticket_id),
                                 resident=await session.get(Resident, world[name].id), now=START)


async def outbox_rows(db, openid: str | None = None) -> list[OutboxMessage]:
    async with db.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if openid is not None:
            query = query.where(OutboxMessage.openid == openid)
        return list(await session.scalars(query))


def content(row: OutboxMessage) -> str:
    """The notice text, whether queued as a customer-service message or a template."""
    payload = row.payload
    return payload.get("content") or payload["fallback_from"]["payload"]["content"]


async def events_of(db, ticket_id: int) -> list[TicketEvent]:
    async with db.sessions() as session:
        return list(await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                          .order_by(TicketEvent.id)))


# ---- PostgreSQL ------------------------------------------------------------------------------

@pytest.fixture
async def pg_db(pg_url):
    """A fresh migrated PostgreSQL database (tests/postgres.py), where concurrency is real."""
    database = Database(pg_url, pool_size=25)
    yield database
    await database.dispose()
