"""Engine and sessions: SQLite (WAL) as the embedded default, PostgreSQL in production.

SQLite runs in the event loop through storage.inline_sqlite (statements on a local file take
microseconds; a thread hop per statement cost ten times more), on a single connection per
process, so transactions queue in asyncio. They begin with BEGIN IMMEDIATE: a deferred
transaction that reads and then writes can fail at once with SQLITE_BUSY when another writer
committed in between, whereas an immediate one waits its turn (retried with asyncio.sleep by the
driver when another process holds the lock). Keep write transactions short.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.admission_pg import CONNECTION_SETUP
from storage.inline_sqlite import InlineConnection
from storage.liveness import ping_when_idle
from storage.pg_direct import DirectConnection
from storage.sqlite_direct import DirectSQLite

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    # Pages read through a memory map of the file (up to 256 MiB), shared by every connection,
    # instead of a read() and a copy into each connection's 2 MiB cache. Every message inserts
    # into indexes at places all over them (the thread index by resident, the keys): once the
    # file outgrew the cache, each message cost more than the last — a quarter more per message
    # after 20,000 (bench/RESULTS.md, "Endpoint — Sixth session"). Local disks only, as for
    # SQLite in WAL mode anyway.
    "PRAGMA mmap_size=268435456",
)


class Database:
    """One engine and its session factory; one session per incoming event or job."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = make_url(url)
        self.pool_size = pool_size
        self.engine = _create_engine(self.url, echo=echo, pool_size=pool_size)
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(self.engine, expire_on_commit=False)
        # The dispatcher's batches run on a connection of their own (storage.pg_direct, storage.sqlite_direct).
        self.direct: DirectConnection | DirectSQLite = _direct_connection(self)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    async def warm_up(self) -> None:
        """Open the pool's connections now rather than in the first burst of messages.

        A server starts with an empty pool and connects as concurrency rises: under load a
        burst then waits while several connections are made at once — each a TCP and
        authentication handshake and SQLAlchemy's per-connection set-up — which showed as the
        slowest seconds of a load run (bench/RESULTS.md, "Load"). SQLite keeps one connection
        anyway."""
        if not self.is_postgres:
            return
        connections = await asyncio.gather(*(self.engine.connect() for _ in range(self.pool_size)))
        try:  # all held at once, so each is a connection of its own
            await asyncio.gather(*(c.exec_driver_sql("SELECT 1") for c in connections), self.direct.fetch("SELECT 1"))
        finally:
            await asyncio.gather(*(c.close() for c in connections))  # back to the pool, kept open

    async def dispose(self) -> None:
        await self.direct.close()
        await self.engine.dispose()


def _direct_connection(db: Database) -> DirectConnection | DirectSQLite:
    if db.is_postgres:
        return DirectConnection(db.engine, setup=CONNECTION_SETUP)
    return DirectSQLite(db.url.database, pragmas=SQLITE_PRAGMAS)


def _create_engine(url, *, echo: bool, pool_size: int) -> AsyncEngine:
    if url.get_backend_name() == "sqlite":
        _ensure_parent_dir(url.database)
        # One connection: SQLite has one writer anyway, and queueing in asyncio is fair and cheap,
        # whereas several connections contending make SQLite's busy handler sleep (up to 100 ms).
        database = url.database or ":memory:"
        engine = create_async_engine(url, echo=echo, pool_size=1, max_overflow=0,
                                     async_creator=lambda: InlineConnection.connect(database, pragmas=SQLITE_PRAGMAS))
        _begin_immediately(engine)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
    ping_when_idle(engine)  # not pool_pre_ping: a ping on every checkout costs three round trips
    return engine


def _ensure_parent_dir(database: str | None) -> None:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)


def _begin_immediately(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
