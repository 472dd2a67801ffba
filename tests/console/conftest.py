"""The console against the real app: a migrated SQLite database per test, the fake WeChat API,
the outbox worker, a clock the tests move, and staff accounts of every role.

The neighbourhood: community "test" with 第一网格 (1–4栋) and 第二网格 (5–8栋); residents o_zhang
(3栋, 第一网格), o_wang (6栋, 第二网格), o_mh (a member household in 3栋); a second community
"other" with its own grid, to check that nothing leaks across communities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import argon2
import pytest
from sqlalchemy import select

from storage.models import Building, Grid, Resident
from storage.staff import accounts as staff_accounts
from storage.staff import passwords
from tests.conftest import make_settings
from tests.tickets_chat import conftest as chat_fixtures
from tests.tickets_chat.conftest import START, Clock

# The app without its scheduler, the outbox worker driven by the test, on a clock the tests move
# (Monday 23 Nov 2026, 10:00 in Shanghai): the ticket chat tests' fixtures.
app_client, services, worker = chat_fixtures.app_client, chat_fixtures.services, chat_fixtures.worker

PASSWORD = "correct-horse-42"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """argon2's cheapest profile keeps login tests fast; production uses the library's defaults."""
    monkeypatch.setattr(passwords, "HASHER", argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    passwords._dummy_hash.cache_clear()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def console_settings(db_url: str, api_base_url: str, **overrides):
    teams = {"test": {"staff": ["o_staffchat"], "street": ["o_street"], "mediation": ["o_mediator"]}}
    data = {"tickets": {"teams": teams}, "console": {"cookie_secure": False},
            "communities": [{"slug": "test", "name": "测试社区"}, {"slug": "other", "name": "隔壁社区"}]}
    data.update(overrides)
    settings = make_settings(db_url, api_base_url, **data)
    other = settings.accounts[0].model_copy(update={"name": "other", "community": "other", "appid": "wxlinliother0002"})
    return settings.model_copy(update={"accounts": [settings.accounts[0], other]})


@pytest.fixture
def settings(db_url, fake_wechat):
    return console_settings(db_url, fake_wechat.base_url)


@dataclass
class Place:
    community_id: int
    other_community_id: int
    grids: dict[str, int]
    buildings: dict[str, int]
    residents: dict[str, int] = field(default_factory=dict)
    staff: dict[str, int] = field(default_factory=dict)


RESIDENTS = (
    ("o_zhang", "张建国", "13807100001", "3栋", 2, "502", []),
    ("o_wang", "王志强", "13807100003", "6栋", 1, "602", []),
    ("o_mh", "李秀英", "13807100002", "3栋", 1, "301", ["member_household"]),
)


@pytest.fixture
async def place(services) -> Place:
    return await seed_place(services)


async def seed_place(services) -> Place:
    """The neighbourhood above, and staff accounts admin, staff, grid1 (第一网格), street (both
    communities) and otherstaff (the other community), all with PASSWORD."""
    community_id, other_id = services.community_ids["test"], services.community_ids["other"]
    async with services.db.sessions.begin() as session:
        grids = {name: Grid(community_id=community_id, name=name) for name in ("第一网格", "第二网格")}
        grids["隔壁网格"] = Grid(community_id=other_id, name="隔壁网格")
        session.add_all(grids.values())
        await session.flush()
        buildings = {f"{n}栋": Building(community_id=community_id, name=f"{n}栋",
                                        grid_id=grids["第一网格" if n <= 4 else "第二网格"].id) for n in range(1, 9)}
        buildings["隔壁1栋"] = Building(community_id=other_id, name="隔壁1栋", grid_id=grids["隔壁网格"].id)
        session.add_all(buildings.values())
        await session.flush()
        for openid, name, phone, building, unit, room, roles in RESIDENTS:
            session.add(Resident(community_id=community_id, openid=openid, name=name, phone=phone,
                                 building_id=buildings[building].id, unit=unit, room=room, roles=roles,
                                 subscribed=True))
        await session.flush()
        residents = dict((await session.execute(select(Resident.openid, Resident.id))).all())
        place = Place(community_id, other_id, {k: g.id for k, g in grids.items()},
                      {k: b.id for k, b in buildings.items()}, residents)
        for username, role, home, grid_ids, more in (
                ("admin", "admin", community_id, [], []),
                ("staff", "community_staff", community_id, [], []),
                ("grid1", "grid_worker", community_id, [place.grids["第一网格"]], []),
                ("street", "street_staff", community_id, [], [other_id]),
                ("otherstaff", "community_staff", other_id, [], [])):
            account = await staff_accounts.create(
                session, username=username, display_name=username.upper(), password_hash=passwords.hash_password(PASSWORD),
                role=role, community_id=home, now=START, grid_ids=grid_ids, more_community_ids=more)
            place.staff[username] = account.id
    return place


class Console:
    """A logged-in browser: keeps the cookie, knows the CSRF token, posts forms."""

    def __init__(self, client) -> None:
        self.client = client
        self.csrf = ""

    async def login(self, username: str, password: str = PASSWORD):
        page = await self.client.get("/console/login")
        token = _field(await page.text(), "_csrf")
        response = await self.client.post("/console/login", data={"username": username, "password": password,
                                                                  "_csrf": token}, allow_redirects=False)
        if response.status == 303:
            self.csrf = await self.fetch_csrf()
        return response

    async def fetch_csrf(self) -> str:
        page = await self.client.get("/console/tickets")
        match = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', await page.text())
        return match.group(1) if match else ""

    async def get(self, path: str, **kw):
        return await self.client.get(path, allow_redirects=False, **kw)

    async def page(self, path: str, status: int = 200) -> str:
        response = await self.get(path)
        body = await response.text()
        assert response.status == status, (response.status, body[:2000])
        return body

    async def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
        form = dict(data or {})
        if csrf:
            form["_csrf"] = self.csrf
        return await self.client.post(path, data=form, allow_redirects=False, **kw)


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field"
    return match.group(1)


@pytest.fixture
def console(app_client):
    return Console(app_client)


@pytest.fixture
async def new_console(app_client):
    """Another browser (its own cookie jar) on the same server."""
    import aiohttp

    sessions = []

    async def make() -> Console:
        session = aiohttp.ClientSession(base_url=str(app_client.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return Console(session)
    yield make
    for session in sessions:
        await session.close()


async def logged_in(console: Console, username: str) -> Console:
    response = await console.login(username)
    assert response.status == 303, await response.text()
    assert console.csrf
    return console


async def make_ticket(services, place: Place, *, openid: str = "o_zhang", description: str = "3栋楼道灯坏了",
                      building: str = "3栋", kind: str = "repair", category: str | None = "lighting",
                      grade: str | None = None, community_id: int | None = None, attachments=(), **draft):
    """A ticket filed as the chat side files it (storage.tickets.create_ticket)."""
    from storage import tickets

    async with services.db.sessions.begin() as session:
        reporter = await session.scalar(select(Resident).where(Resident.openid == openid))
        ticket = await tickets.create_ticket(
            session, community_id=community_id or place.community_id, reporter=reporter,
            draft=tickets.TicketDraft(kind=kind, category=category, description=description, grade=grade,
                                      building_id=place.buildings.get(building), attachments=list(attachments),
                                      **draft),
            now=services.clock(), settings=services.settings)
        return ticket
