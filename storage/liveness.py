"""Check a pooled PostgreSQL connection is alive only when it has been idle.

SQLAlchemy's `pool_pre_ping` pings on every checkout; on asyncpg a ping is three round trips
(BEGIN, an empty query, ROLLBACK), and a message checks out a connection several times, so under
load the pings cost more than some of the work (bench/RESULTS.md, "Load"). A connection handed
back a moment ago was alive a moment ago; one that sat idle may have been cut by a database
restart or a firewall. So the ping runs only on a connection idle longer than `idle_seconds`.
A restart under load still costs at most the statements in flight on the dead connections: the
first of them to fail invalidates the whole pool (SQLAlchemy's disconnect handling), and every
later checkout connects afresh.
"""

from __future__ import annotations

import time

from sqlalchemy import event, exc
from sqlalchemy.ext.asyncio import AsyncEngine

IDLE_KEY = "linli_checked_in_at"


def ping_when_idle(engine: AsyncEngine, *, idle_seconds: float = 2.0) -> None:
    pool, dialect = engine.sync_engine.pool, engine.sync_engine.dialect

    @event.listens_for(pool, "checkin")
    def _note_idle_since(dbapi_connection, record) -> None:
        record.info[IDLE_KEY] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        since = record.info.get(IDLE_KEY)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new (just connected) or handed back a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError() from error  # the pool replaces it and checks out again
            raise
