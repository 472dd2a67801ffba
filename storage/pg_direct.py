"""One asyncpg connection of the process's own, for the dispatcher's batch statement on PostgreSQL.

Every group-commit batch (storage.group_commit) is one statement (storage.admission_pg), and a
process runs one batch at a time. Through SQLAlchemy each run checks a connection out of the pool,
switches it to autocommit, goes through an execution context and hands the connection back:
about 250 µs of this process's CPU, against 70 µs for the same statement sent on an asyncpg
connection directly (bench/RESULTS.md, "Load"). So the process keeps one connection for it.

The connection is taken from the engine's pool once and detached from it, so it is made like
every other (connect arguments, JSON codecs), and replaced when it breaks. As the pool does
(storage.liveness), it is checked with a ping only after sitting idle, so a database restart
during a quiet spell costs nothing; one lost while busy fails its statement once, raised as
ConnectionError (the spool's "database unreachable"), and the next batch connects afresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Sequence

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("linli.storage")

LOST = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.exceptions.OperatorInterventionError,
        OSError, asyncio.TimeoutError)


class DirectConnection:
    def __init__(self, engine: AsyncEngine, *, setup: Sequence[str] = (), idle_seconds: float = 2.0) -> None:
        self.engine = engine
        self.setup = tuple(setup)  # statements run on every new connection (session settings)
        self.idle_seconds = idle_seconds
        self._connection: asyncpg.Connection | None = None
        self._used_at = 0.0
        self._lock = asyncio.Lock()  # an asyncpg connection runs one statement at a time

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async with self._lock:
            connection = await self._ready()
            try:
                rows = await connection.fetch(sql, *args)
            except BaseException as exc:
                if isinstance(exc, (*LOST, asyncio.CancelledError)) or connection.is_closed():
                    self._discard()  # cancelled mid-statement: its state is unknown, start afresh
                    if isinstance(exc, LOST):
                        raise ConnectionError(f"database connection lost: {exc}") from exc
                raise
            self._used_at = time.monotonic()
            return rows

    async def _ready(self) -> asyncpg.Connection:
        if self._connection is not None and time.monotonic() - self._used_at > self.idle_seconds:
            try:
                await self._connection.execute("SELECT 1")
            except LOST:
                log.info("the direct database connection went away while idle; reconnecting")
                self._discard()
        if self._connection is None or self._connection.is_closed():
            self._connection = await self._connect()
        return self._connection

    async def _connect(self) -> asyncpg.Connection:
        """A connection taken from the engine's pool and detached. The pool may still hold ones
        the database cut meanwhile (a restart): those are dropped and the next tried, and after
        as many as it holds it makes a new one."""
        failure: BaseException | None = None
        for _ in range(self.engine.sync_engine.pool.size() + 2):
            proxy = await self.engine.raw_connection()
            connection = proxy.driver_connection
            proxy.detach()  # ours from now on: the pool neither counts nor reuses it
            try:
                for statement in (*self.setup, "SELECT 1"):
                    await connection.execute(statement)
                return connection
            except LOST as exc:
                connection.terminate()
                failure = exc
        raise ConnectionError(f"database connection lost: {failure}") from failure

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.terminate()

    async def close(self) -> None:
        async with self._lock:
            connection, self._connection = self._connection, None
            if connection is None:
                return
            try:
                await asyncio.wait_for(connection.close(), timeout=2.0)
            except Exception:
                connection.terminate()
