"""Per-key asyncio locks that disappear when nobody holds or waits for them."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable, Hashable


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    async def acquire(self, key: Hashable, timeout: float | None = None) -> Callable[[], None] | None:
        """Take the key's lock; returns the function that releases it, or None on timeout.

        A release function rather than a context manager because the dispatcher holds a
        resident's lock from admission until the reply is recorded, across two calls.
        """
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            if timeout is None or not lock.locked():
                await lock.acquire()  # free (the usual case), or waiting with no limit
            else:
                await asyncio.wait_for(lock.acquire(), timeout)
        except asyncio.TimeoutError:
            self._forget(key)
            return None
        except BaseException:  # cancelled: leave as if never asked
            self._forget(key)
            raise
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                lock.release()
                self._forget(key)
        return release

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        release = await self.acquire(key)
        assert release is not None  # no timeout, so it waited until it had the lock
        try:
            yield
        finally:
            release()

    def _forget(self, key: Hashable) -> None:
        lock, users = self._locks[key]
        if users == 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
