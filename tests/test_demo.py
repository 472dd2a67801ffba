"""`linli demo`: the generated config, the seed data, and a start/stop smoke test on port 0."""

from __future__ import annotations

import base64
import tomllib

import aiohttp
from sqlalchemy import func, select

from bot import texts
from bot.config import load_settings, validate
from bot.demo import banner, demo_config, ensure_config, new_aes_key, start_demo, to_toml
from bot.demo_data import COMMUNITY_NAME, GRIDS, RESIDENTS, seed
from storage.models import Building, Community, Grid, Resident


async def _count(db, model) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def test_seeding_twice_changes_nothing(db):
    for _ in range(2):
        async with db.sessions.begin() as session:
            await seed(session)
    assert await _count(db, Community) == 1
    assert await _count(db, Grid) == 3
    assert await _count(db, Building) == sum(len(b) for b in GRIDS.values()) == 12
    assert await _count(db, Resident) == len(RESIDENTS) >= 8


async def test_reseeding_keeps_chat_state_and_refreshes_profiles(db):
    async with db.sessions.begin() as session:
        await seed(session)
    async with db.sessions.begin() as session:
        zhang = await session.scalar(select(Resident).where(Resident.openid == "o_demo_zhang"))
        zhang.subscribed, zhang.name = False, "改过的名字"
    async with db.sessions.begin() as session:
        await seed(session)
    async with db.sessions() as session:
        zhang = await session.scalar(select(Resident).where(Resident.openid == "o_demo_zhang"))
        building = await session.get(Building, zhang.building_id)
        grid = await session.get(Grid, building.grid_id)
    assert (zhang.name, zhang.subscribed, zhang.roles) == ("张建国", False, ["member_household"])
    assert (building.name, grid.name, zhang.unit, zhang.room) == ("3栋", "第一网格", 2, "502")


def test_seed_data_has_the_roles_the_demo_needs():
    roles = [role for person in RESIDENTS for role in person.roles]
    assert roles.count("member_household") >= 2 and "grid_worker" in roles
    assert len({p.openid for p in RESIDENTS}) == len(RESIDENTS)
    assert all(p.building in sum(GRIDS.values(), []) for p in RESIDENTS)


def test_aes_keys_are_valid_and_random():
    key = new_aes_key()
    assert len(key) == 43 and "=" not in key
    assert len(base64.b64decode(key + "=")) == 32
    assert new_aes_key() != key


def test_demo_config_is_valid_and_random(tmp_path):
    first, second = demo_config(tmp_path), demo_config(tmp_path)
    settings = validate(tomllib.loads(to_toml(first)))  # the TOML writer round-trips
    account = settings.accounts[0]
    assert account.encryption == "safe" and account.community == "demo"
    assert settings.communities[0].name == COMMUNITY_NAME
    assert settings.server.simulator and settings.database.url.endswith("/linli.db")
    for field in ("token", "encoding_aes_key", "secret", "appid"):
        assert first["accounts"][0][field] != second["accounts"][0][field]


def test_the_config_file_is_written_once(tmp_path):
    path = ensure_config(tmp_path / "demo")
    text = path.read_text(encoding="utf-8")
    assert ensure_config(tmp_path / "demo") == path and path.read_text(encoding="utf-8") == text
    settings = load_settings(path, environ={})
    assert settings.accounts[0].name == "demo"


async def test_start_demo_on_port_0_and_stop(tmp_path, nlu_engine):
    data_dir = tmp_path / "demo"
    for _ in range(2):  # the second start reuses the config and the seeded database
        handle = await start_demo("127.0.0.1", 0, data_dir, nlu=nlu_engine, app_options={"scheduler": False})
        try:
            assert handle.settings.server.port > 0
            assert handle.settings.wechat.base_url == handle.fake.base_url
            assert handle.simulator_url in banner(handle)
            async with aiohttp.ClientSession() as http:
                async with http.get(handle.simulator_url) as page:
                    assert page.status == 200
                async with http.post(f"{handle.base_url}/simulator/api/send",
                                     json={"openid": "o_demo_zhang", "type": "text", "content": "你好"}) as response:
                    data = await response.json()
                async with http.get(f"{handle.base_url}/simulator/api/residents") as response:
                    people = (await response.json())["residents"]
        finally:
            await handle.stop()
        assert data["reply"]["content"] == texts.GREETING
        assert len(people) == len(RESIDENTS)
    assert (data_dir / "demo.toml").exists() and (data_dir / "linli.db").exists()
