"""Shared fixtures: a real database per test (SQLite or PostgreSQL), settings, and the fake WeChat API.

The backend is chosen for the whole run with ``--database=sqlite|postgresql`` (or the environment
variable LINLI_TEST_DATABASE; SQLite by default): ``db_url`` — and everything built on it (db,
settings, app_client, wechat…) — is then a copy of a migrated SQLite template file
(``sqlite_url``) or a database of its own on the throwaway PostgreSQL cluster (``pg_url``,
tests/postgres.py). The PostgreSQL pass runs only the tests whose result can depend on the
backend: those that use ``db_url`` and are not marked ``backend_specific`` (tests that pick their
databases themselves); everything else already ran, identically, in the SQLite pass.
See tests/README.md.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings, validate
from storage.db import Database
from storage.migrate import upgrade

pytest_plugins = ["tests.postgres"]  # pg_cluster / pg_url: a throwaway PostgreSQL

BACKENDS = ("sqlite", "postgresql")

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


def late_router(delay: float):
    """The product's own handlers, each answering `delay` seconds late: a reply deadline shorter
    than that is missed for certain, however fast the machine (a 1 ms deadline no longer is)."""
    import asyncio

    from bot.dispatcher.router import Router
    from handlers import build_router

    product, late = build_router(), Router("late")

    @late.on()
    async def answer_late(ctx):
        await asyncio.sleep(delay)
        handler = product.resolve(ctx)
        return await handler(ctx) if handler else None
    return late


def pytest_addoption(parser) -> None:
    parser.addoption("--database", choices=BACKENDS, default=None,
                     help="the database behind db_url for the whole run (default: $LINLI_TEST_DATABASE or sqlite)")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "backend_specific: the test chooses its databases itself (sqlite_url, "
                                       "pg_url, or both); it runs in the SQLite pass only")
    backend = backend_of(config)
    if backend not in BACKENDS:
        raise pytest.UsageError(f"LINLI_TEST_DATABASE={backend!r}: must be one of {', '.join(BACKENDS)}")


def backend_of(config) -> str:
    """The backend of this run: the option, else the environment, else SQLite."""
    return config.getoption("database") or os.environ.get("LINLI_TEST_DATABASE") or "sqlite"


def pytest_report_header(config) -> str:
    return f"database: {backend_of(config)}"


def pytest_collection_modifyitems(config, items) -> None:
    """On PostgreSQL, leave out the tests that cannot depend on the backend: running them again
    would only cost time (they ran in the SQLite pass)."""
    if backend_of(config) != "postgresql":
        return
    keep = [item for item in items if _depends_on_backend(item)]
    dropped = [item for item in items if not _depends_on_backend(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _depends_on_backend(item) -> bool:
    return "db_url" in getattr(item, "fixturenames", ()) and item.get_closest_marker("backend_specific") is None


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("schema") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path, migrated_template) -> str:
    """A freshly migrated SQLite file for this test, whatever the run's backend."""
    target = tmp_path / "linli.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def db_url(request) -> str:
    """A freshly migrated database of the run's backend (``--database``) for this test."""
    if backend_of(request.config) == "postgresql":
        return request.getfixturevalue("pg_url")
    return request.getfixturevalue("sqlite_url")


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
