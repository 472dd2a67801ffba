"""A sqlite3 connection of the process's own, for the dispatcher's batches on SQLite.

Admitting and recording a batch of messages is a dozen plain statements that take SQLite
microseconds (storage.admission_sqlite); run inside an SQLAlchemy session, the session itself —
created, begun, its connection fetched from the pool, committed, closed — cost ~0.3 ms a batch,
more than the statements (bench/RESULTS.md, "Endpoint"). So a batch runs on a connection of its
own, as one synchronous transaction: BEGIN IMMEDIATE, the statements, COMMIT, with no await in
between, so no other coroutine can meet it half done.

The write lock is the database's, shared with the engine's connection and other processes:
while one of them holds it (a handler's transaction, say), BEGIN IMMEDIATE is retried with
asyncio.sleep, never blocking the loop (storage.inline_sqlite).
"""

from __future__ import annotations

import asyncio
from typing import Callable, Iterable, TypeVar

from storage.inline_sqlite import InlineConnection, retry_while_locked

T = TypeVar("T")


class DirectSQLite:
    def __init__(self, database: str, *, pragmas: Iterable[str] = (), busy_timeout: float = 15.0) -> None:
        self.database = database
        self.pragmas = tuple(pragmas)
        self.busy_timeout = busy_timeout
        self._connection: InlineConnection | None = None
        self._lock = asyncio.Lock()  # the write lock is taken by BEGIN IMMEDIATE; this orders our own batches

    async def transaction(self, work: Callable[..., T], *args) -> T:
        """Run `work(sqlite3_connection, *args)` in one transaction; commit it, or roll back and raise."""
        async with self._lock:
            connection = await self._ready()
            await retry_while_locked(connection.execute, "BEGIN IMMEDIATE", busy_timeout=self.busy_timeout)
            try:
                result = work(connection, *args)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            return result

    async def _ready(self):
        if self._connection is None:
            self._connection = await InlineConnection.connect(self.database, busy_timeout=self.busy_timeout,
                                                              pragmas=self.pragmas)
        return self._connection.sqlite

    async def close(self) -> None:
        async with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                await connection.close()
