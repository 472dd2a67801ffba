"""The server process's heartbeat row (storage.workers), beaten from a thread of its own.

If this process is killed mid-message, WeChat's next retry lands on another process, which
sees the message still 'running' here and this process silent, and handles it itself. The beat
must not depend on the event loop being free: an overloaded loop answers late but is alive, and
a heartbeat that waits behind its backlog would make another process take over messages this
one is still handling (and answer them twice). So the beat runs in a thread with its own event
loop and its own database connection; only a dead (or frozen) process stops beating. (On
SQLite, with its single writer, a transaction left open by a frozen loop holds the beat up too.)
"""

from __future__ import annotations

import asyncio
import logging
import threading

from bot.services import Services
from storage import workers
from storage.db import Database

log = logging.getLogger("linli.heartbeat")


class Heartbeat:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.interval = services.settings.dedup.heartbeat_seconds
        self._stop = threading.Event()
        self._registered = threading.Event()
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        """Register (so the first claim already has a live worker) and start beating."""
        self._thread = threading.Thread(target=self._main, name="linli-heartbeat", daemon=True)
        self._thread.start()
        await asyncio.to_thread(self._registered.wait, 30)

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30)

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        db = Database(self.services.settings.database.url, pool_size=1)
        try:
            await self._safely(self._register, db)
            self._registered.set()
            while not self._stop.wait(self.interval):
                await self._safely(self._beat, db)
            await self._safely(self._unregister, db)
        finally:
            self._registered.set()
            await db.dispose()

    async def _safely(self, step, db: Database) -> None:
        try:
            await step(db)
        except Exception as exc:  # the database may be restarting; keep beating
            log.warning("heartbeat failed: %s", exc)

    async def _register(self, db: Database) -> None:
        async with db.sessions.begin() as session:
            await workers.register(session, self.services.worker_id, self.services.clock())

    async def _beat(self, db: Database) -> None:
        async with db.sessions.begin() as session:
            alive = await workers.beat(session, self.services.worker_id, self.services.clock())
        if not alive:
            await self._register(db)

    async def _unregister(self, db: Database) -> None:
        async with db.sessions.begin() as session:
            await workers.unregister(session, self.services.worker_id)
