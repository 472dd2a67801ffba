"""Server processes' heartbeats: who is alive to finish the messages they claimed."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ServerWorker


def new_worker_id() -> str:
    """host:pid:random — unique even when a pid is reused after a restart."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


async def register(session: AsyncSession, worker_id: str, now: datetime) -> None:
    session.add(ServerWorker(id=worker_id, started_at=now, seen_at=now))


async def beat(session: AsyncSession, worker_id: str, now: datetime) -> bool:
    """Say we are alive; False if our row is gone (then register again)."""
    result = await session.execute(update(ServerWorker).where(ServerWorker.id == worker_id).values(seen_at=now))
    return result.rowcount == 1


async def unregister(session: AsyncSession, worker_id: str) -> None:
    await session.execute(delete(ServerWorker).where(ServerWorker.id == worker_id))


async def forget_silent(session: AsyncSession, older_than: datetime) -> int:
    """Drop rows of processes that stopped beating long ago (housekeeping)."""
    result = await session.execute(delete(ServerWorker).where(ServerWorker.seen_at < older_than))
    return result.rowcount
