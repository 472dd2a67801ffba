"""The shared access_token: one fetch for many callers and processes, refresh before expiry."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from bot.wechat.http import WeChatUnavailable
from bot.wechat.token import TokenManager
from storage import tokens as token_rows
from storage.db import Database
from tests.conftest import TEST_APPID, TEST_SECRET


class Clock:
    """A clock the test moves by hand; the fake server reads the same time."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def clock(fake_wechat) -> Clock:
    clock = Clock()
    fake_wechat.clock = clock.epoch
    fake_wechat.register(TEST_APPID, TEST_SECRET)
    return clock


def manager(db, http, fake, clock, **kwargs) -> TokenManager:
    return TokenManager(db, http, base_url=fake.base_url, appid=TEST_APPID, secret=TEST_SECRET,
                        clock=clock, timeout=2, **kwargs)


async def test_token_is_fetched_once_and_stored(db, http, fake_wechat, clock):
    tokens = manager(db, http, fake_wechat, clock)
    first = await tokens.get()
    assert await tokens.get() == first
    assert fake_wechat.token_fetches == 1
    async with db.sessions() as session:
        stored = await token_rows.read(session, TEST_APPID)
    assert stored.token == first and stored.expires_at == clock.now + timedelta(seconds=7200)
    assert stored.refreshing_until is None
    # a fresh process (empty memory) reuses the stored token
    assert await manager(db, http, fake_wechat, clock).get() == first
    assert fake_wechat.token_fetches == 1


async def test_twenty_concurrent_callers_cause_one_fetch(db, http, fake_wechat, clock):
    fake_wechat.delay = 0.05
    tokens = manager(db, http, fake_wechat, clock)
    results = await asyncio.gather(*(tokens.get() for _ in range(20)))
    assert len(set(results)) == 1
    assert fake_wechat.token_fetches == 1


async def test_two_processes_cause_one_fetch(db, db_url, http, fake_wechat, clock):
    other_db = Database(db_url)
    try:
        fake_wechat.delay = 0.1
        first = manager(db, http, fake_wechat, clock)
        second = manager(other_db, http, fake_wechat, clock)
        results = await asyncio.gather(*(m.get() for m in (first, second) for _ in range(5)))
        assert len(set(results)) == 1
        assert fake_wechat.token_fetches == 1
    finally:
        await other_db.dispose()


async def test_refresh_before_expiry(db, http, fake_wechat, clock):
    tokens = manager(db, http, fake_wechat, clock, margin_seconds=300)
    first = await tokens.get()
    clock.now += timedelta(seconds=7200 - 301)
    assert await tokens.get() == first
    assert fake_wechat.token_fetches == 1
    clock.now += timedelta(seconds=2)  # now inside the margin: refreshed before it expires
    second = await tokens.get()
    assert second != first
    assert fake_wechat.token_fetches == 2
    assert await tokens.get() == second


async def test_rejected_token_forces_one_refetch(db, http, fake_wechat, clock):
    tokens = manager(db, http, fake_wechat, clock)
    first = await tokens.get()
    fake_wechat.expire_tokens()
    results = await asyncio.gather(*(tokens.refresh(force=True, stale_token=first) for _ in range(5)))
    assert len(set(results)) == 1 and results[0] != first
    assert fake_wechat.token_fetches == 2
    stable = [body for path, _q, body in fake_wechat.calls if path == "/cgi-bin/stable_token"]
    assert [body["force_refresh"] for body in stable] == [False, True]


async def test_stale_refresh_after_another_process_refreshed_does_not_fetch(db, db_url, http, fake_wechat, clock):
    other_db = Database(db_url)
    try:
        mine = manager(db, http, fake_wechat, clock)
        theirs = manager(other_db, http, fake_wechat, clock)
        old = await mine.get()
        new = await theirs.refresh(force=True, stale_token=old)
        assert await mine.refresh(force=True, stale_token=old) == new
        assert fake_wechat.token_fetches == 2
    finally:
        await other_db.dispose()


async def test_failed_fetch_releases_the_lease(db, http, fake_wechat, clock):
    tokens = manager(db, http, fake_wechat, clock)
    fake_wechat.unreachable = True
    with pytest.raises(WeChatUnavailable):
        await tokens.get()
    async with db.sessions() as session:
        assert (await token_rows.read(session, TEST_APPID)).refreshing_until is None
    fake_wechat.unreachable = False
    assert await tokens.get()


async def test_waiting_for_a_stuck_lease_is_bounded(db, http, fake_wechat, clock):
    async with db.sessions.begin() as session:
        await token_rows.ensure_row(session, TEST_APPID, clock.now)
        assert await token_rows.acquire_lease(session, TEST_APPID, now=clock.now,
                                              lease_until=clock.now + timedelta(hours=1),
                                              fresh_until=clock.now, stale_token=None)
    tokens = TokenManager(db, http, base_url=fake_wechat.base_url, appid=TEST_APPID, secret=TEST_SECRET,
                          clock=clock, timeout=0.1, poll_seconds=0.02)
    tokens._lease = timedelta(seconds=0.1)
    with pytest.raises(WeChatUnavailable):
        await tokens.get()
    assert fake_wechat.token_fetches == 0


async def test_expired_lease_of_a_dead_process_is_taken_over(db, http, fake_wechat, clock):
    async with db.sessions.begin() as session:
        await token_rows.ensure_row(session, TEST_APPID, clock.now)
        await token_rows.acquire_lease(session, TEST_APPID, now=clock.now, lease_until=clock.now + timedelta(seconds=5),
                                       fresh_until=clock.now, stale_token=None)
    clock.now += timedelta(seconds=6)
    assert await manager(db, http, fake_wechat, clock).get()
    assert fake_wechat.token_fetches == 1
