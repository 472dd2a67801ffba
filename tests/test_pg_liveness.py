"""Pooled PostgreSQL connections are pinged only after sitting idle (storage/liveness.py), and a
connection the server cut is replaced without the caller noticing — or, if it was handed back a
moment ago, with only the statement in flight failing, after which the pool connects afresh.
The dispatcher's own connection (storage/pg_direct.py) behaves the same."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.spool import store_unavailable
from storage.db import Database
from storage.liveness import ping_when_idle
from storage.pg_direct import DirectConnection

pytestmark = pytest.mark.backend_specific


async def _backend_pid(engine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(text("SELECT pg_backend_pid()"))


async def _cut(admin, pid: int) -> None:
    """What a database restart or a firewall does to an idle connection."""
    async with admin.connect() as connection:
        assert await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await asyncio.sleep(0.1)


def _count_pings(engine) -> list:
    pings: list = []
    original = engine.sync_engine.dialect.do_ping

    def counted(dbapi_connection):
        pings.append(1)
        return original(dbapi_connection)
    engine.sync_engine.dialect.do_ping = counted
    return pings


async def test_a_busy_connection_is_not_pinged_and_an_idle_one_is(pg_url):
    engine = create_async_engine(pg_url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds=0.3)
    pings = _count_pings(engine)
    try:
        for _ in range(5):
            await _backend_pid(engine)
        assert pings == []  # handed back and taken again at once: no round trips spent on pings
        await asyncio.sleep(0.4)
        await _backend_pid(engine)
        assert pings == [1]
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _engines(pg_url, *, idle_seconds: float, pool_size: int = 1):
    """The engine under test, pinging after `idle_seconds`, and an admin engine to cut its connections."""
    engine = create_async_engine(pg_url, pool_size=pool_size, max_overflow=0)
    admin = create_async_engine(pg_url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds=idle_seconds)
    try:
        yield engine, admin
    finally:
        await engine.dispose()
        await admin.dispose()


async def test_an_idle_connection_the_server_cut_is_replaced_unnoticed(pg_url):
    async with _engines(pg_url, idle_seconds=0.3) as (engine, admin):
        first = await _backend_pid(engine)
        await _cut(admin, first)
        await asyncio.sleep(0.3)
        second = await _backend_pid(engine)  # no error: the ping found it dead, the pool reconnected
        assert second != first


async def test_a_connection_cut_while_busy_fails_once_and_the_pool_recovers(pg_url):
    async with _engines(pg_url, idle_seconds=60, pool_size=2) as (engine, admin):
        first = await _backend_pid(engine)
        await _cut(admin, first)
        with pytest.raises(exc.DBAPIError):
            await _backend_pid(engine)  # used again at once, unpinged: the statement in flight fails
        assert await _backend_pid(engine) != first  # the failure invalidated the pool


async def _direct_pid(direct: DirectConnection) -> int:
    [row] = await direct.fetch("SELECT pg_backend_pid() AS pid")
    return row["pid"]


async def test_the_direct_connection_cut_while_idle_is_replaced_unnoticed(pg_url):
    async with _engines(pg_url, idle_seconds=60) as (engine, admin):
        direct = DirectConnection(engine, idle_seconds=0.3)
        try:
            first = await _direct_pid(direct)
            assert await _direct_pid(direct) == first  # kept, not checked out again
            await _cut(admin, first)
            await asyncio.sleep(0.3)
            assert await _direct_pid(direct) != first
        finally:
            await direct.close()


async def test_the_direct_connection_cut_mid_statement_fails_once_as_unreachable(pg_url):
    async with _engines(pg_url, idle_seconds=60) as (engine, admin):
        direct = DirectConnection(engine, idle_seconds=60)
        try:
            first = await _direct_pid(direct)
            running = asyncio.create_task(direct.fetch("SELECT pg_sleep(30)"))
            await asyncio.sleep(0.2)
            await _cut(admin, first)
            with pytest.raises(ConnectionError) as failure:
                await running
            assert store_unavailable(failure.value)  # so the dispatcher spools the message
            assert await _direct_pid(direct) != first
        finally:
            await direct.close()


async def test_the_direct_connection_is_not_one_of_the_pools(pg_url):
    async with _engines(pg_url, idle_seconds=60) as (engine, _):
        direct = DirectConnection(engine)
        try:
            await _direct_pid(direct)
            assert engine.sync_engine.pool.checkedout() == 0
            await _backend_pid(engine)  # the pool's only connection is still free to use
        finally:
            await direct.close()


async def test_a_warmed_up_database_has_its_pool_open_before_the_first_message(pg_url):
    db = Database(pg_url, pool_size=4)
    try:
        await db.warm_up()
        pool = db.engine.sync_engine.pool
        assert (pool.checkedin(), pool.checkedout(), pool.overflow()) == (4, 0, 0)
        async with db.engine.connect() as connection:  # taken from the pool, not opened now
            assert await connection.scalar(text("SELECT 1")) == 1
        assert pool.checkedin() == 4
    finally:
        await db.dispose()


async def test_the_direct_connection_skips_pooled_connections_the_database_cut(pg_url):
    """After a restart the pool may still hold dead connections: the direct connection is not
    made from one of them."""
    async with _engines(pg_url, idle_seconds=60, pool_size=2) as (engine, admin):
        async with engine.connect() as one, engine.connect() as two:
            pids = [await one.scalar(text("SELECT pg_backend_pid()")), await two.scalar(text("SELECT pg_backend_pid()"))]
        for pid in pids:
            await _cut(admin, pid)
        direct = DirectConnection(engine)
        try:
            assert await _direct_pid(direct) not in pids
        finally:
            await direct.close()
