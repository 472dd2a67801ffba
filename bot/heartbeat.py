"""The server process's heartbeat row (storage.workers), beaten in the background.

If this process is killed mid-message, WeChat's next retry lands on another process, which
sees the message still 'running' here and this process silent, and handles it itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.services import Services
from storage import workers

log = logging.getLogger("linli.heartbeat")


class Heartbeat:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.interval = services.settings.dedup.heartbeat_seconds
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await self._register()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):  # a database that is down cannot be told; the row goes silent
            async with self.services.db.sessions.begin() as session:
                await workers.unregister(session, self.services.worker_id)

    async def _register(self) -> None:
        async with self.services.db.sessions.begin() as session:
            await workers.register(session, self.services.worker_id, self.services.clock())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._beat()
            except Exception as exc:  # the database may be restarting; keep beating
                log.warning("heartbeat failed: %s", exc)

    async def _beat(self) -> None:
        async with self.services.db.sessions.begin() as session:
            alive = await workers.beat(session, self.services.worker_id, self.services.clock())
        if not alive:
            await self._register()
