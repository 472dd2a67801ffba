"""Shared fixtures: a real (SQLite) database per test, settings, and the fake WeChat API.

The schema is migrated once per session with Alembic into a template file, then copied for each
test, so every test gets a fresh real database in milliseconds.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings, validate
from storage.db import Database
from storage.migrate import upgrade

pytest_plugins = ["tests.postgres"]  # pg_cluster / pg_url: a throwaway PostgreSQL

# Test-only account values, not real secrets.
TEST_APPID = "wxlinlitest000001"
TEST_SECRET = "linli-test-secret"
TEST_TOKEN = "linlitesttoken"
TEST_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TEST_PREVIOUS_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


def make_settings(db_url: str, api_base_url: str = "http://127.0.0.1:9", **overrides: Any) -> Settings:
    data: dict[str, Any] = {
        "database": {"url": db_url},
        "wechat": {"base_url": api_base_url, "timeout_seconds": 2.0},
        "server": {"timestamp_window_seconds": 300, "simulator": False},
        "outbox": {"base_backoff_seconds": 0.05, "max_backoff_seconds": 0.2, "poll_interval_seconds": 0.2},
        "communities": [{"slug": "test", "name": "测试社区"}],
        "accounts": [{
            "name": "test", "community": "test", "appid": TEST_APPID, "secret": TEST_SECRET,
            "token": TEST_TOKEN, "encoding_aes_key": TEST_AES_KEY,
            "previous_encoding_aes_key": TEST_PREVIOUS_AES_KEY, "encryption": "safe",
            "templates": {"reply": {"template_id": "TPL_REPLY", "fields": {"first": "title", "keyword1": "content"}}},
        }],
    }
    for section, values in overrides.items():
        if isinstance(values, dict) and isinstance(data.get(section), dict):
            data[section].update(values)
        else:
            data[section] = values
    return validate(data)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def db_url(tmp_path, migrated_template) -> str:
    target = tmp_path / "linli.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def db(db_url):
    database = Database(db_url)
    yield database
    await database.dispose()


@pytest.fixture
async def fake_wechat():
    """The fake WeChat API on loopback; its base_url goes into settings.wechat.base_url."""
    from bot.wechat.fake_api import FakeWeChat

    fake = FakeWeChat()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings(db_url, fake_wechat) -> Settings:
    return make_settings(db_url, fake_wechat.base_url)


@pytest.fixture(scope="session")
def nlu_engine():
    """Loading the NLU takes about a second; every app in the session shares one engine."""
    from nlp import load_engine

    return load_engine()


@pytest.fixture
async def app_client(aiohttp_client, settings, nlu_engine):
    from bot.app import create_app

    return await aiohttp_client(create_app(settings, nlu=nlu_engine))


@pytest.fixture
def wechat(app_client, settings):
    from tests.wechat_client import WeChatClient

    return WeChatClient(app_client, settings.accounts[0])
