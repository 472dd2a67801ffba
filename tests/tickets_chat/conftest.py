"""The ticket chat side through the real endpoint, on a clock the tests move.

The app runs without its scheduler and outbox worker: the tests call the jobs and drain the
outbox themselves, so what reaches the fake WeChat API is known exactly when asserted; the neighbourhood is one grid with buildings 1–4栋, two registered residents of 3栋, a
grid worker, and staff / street openids in the ticket config (so red alerts have recipients).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot import keys
from bot.texts import tickets as t
from handlers.intake_form import shorten
from storage.models import Building, Conversation, Grid, OutboxMessage, Resident
from storage.ticket_models import Ticket
from tests.conftest import make_settings

START = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 23 Nov 2026, 10:00 in Shanghai


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(db_url, fake_wechat):
    teams = {"test": {"staff": ["o_staff"], "street": ["o_street"], "mediation": ["o_mediator"]}}
    return make_settings(db_url, fake_wechat.base_url, tickets={"teams": teams})


@pytest.fixture
async def app_client(aiohttp_client, settings, nlu_engine, clock):
    from bot.app import create_app

    return await aiohttp_client(create_app(settings, nlu=nlu_engine, clock=clock, scheduler=False,
                                           outbox_worker=False))


@pytest.fixture
def services(app_client):
    return app_client.server.app[keys.SERVICES]


@pytest.fixture
def worker(app_client, services, clock):
    """Sends queued messages to the fake WeChat API when the test calls ``drain()``."""
    from bot.outbox_worker import OutboxWorker

    return OutboxWorker(services.db, services.settings, app_client.server.app[keys.APIS], clock=clock)


@dataclass
class Neighbourhood:
    community_id: int
    buildings: dict[str, int]


@pytest.fixture
async def place(services) -> Neighbourhood:
    """Registered people: o_zhang (3栋2单元502), o_li (3栋1单元301), o_grid (grid worker, 1栋)."""
    community_id = services.community_ids["test"]
    async with services.db.sessions.begin() as session:
        grid = Grid(community_id=community_id, name="第一网格")
        session.add(grid)
        await session.flush()
        buildings = {name: Building(community_id=community_id, grid_id=grid.id, name=name)
                     for name in ("1栋", "2栋", "3栋", "4栋")}
        session.add_all(buildings.values())
        await session.flush()
        for openid, name, phone, building, unit, room, roles in (
                ("o_zhang", "张建国", "13807100001", "3栋", 2, "502", []),
                ("o_li", "李秀英", "13807100002", "3栋", 1, "301", []),
                ("o_grid", "刘芳", "13807100004", "1栋", 1, "101", ["grid_worker"])):
            session.add(Resident(community_id=community_id, openid=openid, name=name, phone=phone,
                                 building_id=buildings[building].id, unit=unit, room=room, roles=roles,
                                 subscribed=True))
    return Neighbourhood(community_id, {name: b.id for name, b in buildings.items()})


# ---- reading what happened ------------------------------------------------------------------


async def all_tickets(db) -> list[Ticket]:
    async with db.sessions() as session:
        return list(await session.scalars(select(Ticket).order_by(Ticket.id)))


async def only_ticket(db) -> Ticket:
    rows = await all_tickets(db)
    assert len(rows) == 1, f"expected one ticket, found {len(rows)}"
    return rows[0]


async def dialog_state(db, openid: str) -> str | None:
    async with db.sessions() as session:
        return await session.scalar(select(Conversation.state).join(Resident, Resident.id == Conversation.resident_id)
                                    .where(Resident.openid == openid))


async def outbox_to(db, openid: str, notice_kind: str | None = None) -> list[OutboxMessage]:
    async with db.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.openid == openid)
        if notice_kind is not None:
            query = query.where(OutboxMessage.notice_kind == notice_kind)
        return list(await session.scalars(query.order_by(OutboxMessage.id)))


async def count(db, model) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def conversation(chat, *messages: str) -> list[str | None]:
    """Say each message in turn; the replies."""
    return [await chat.say(message) for message in messages]


def noted(kind: str, words: str) -> str:
    """The read-back that opens the form's first question ("收到您的报修：楼道灯坏了。")."""
    return t.NOTED.format(kind=kind, what=shorten(words, 24))
