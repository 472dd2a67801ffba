"""Processed-message keys: the unique (account, key) row is what makes WeChat's retries harmless
across any number of processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedMessage, ServerWorker


@dataclass(frozen=True, slots=True)
class Seen:
    """What a retry learns about the first attempt."""

    status: str
    delivery: str | None
    reply: dict[str, Any] | None
    started_at: datetime
    worker_seen_at: datetime | None = None  # the running attempt's process's last heartbeat, if known

    def orphaned(self, now: datetime, *, lease: timedelta, silent_after: timedelta) -> bool:
        """Still 'running', but its process went silent (killed) or the lease ran out."""
        if self.status != "running":
            return False
        went_silent = self.worker_seen_at is not None and self.worker_seen_at < now - silent_after
        return went_silent or self.started_at < now - lease


async def take_over(session: AsyncSession, *, account: str, key: str, now: datetime, lease: timedelta,
                    silent_after: timedelta, worker: str | None) -> bool:
    """Adopt a key whose first attempt died mid-way; only one of several retries wins."""
    silent = select(ServerWorker.id).where(ServerWorker.seen_at < now - silent_after)
    result = await session.execute(
        update(ProcessedMessage)
        .where(ProcessedMessage.account == account, ProcessedMessage.dedup_key == key,
               ProcessedMessage.status == "running",
               or_(ProcessedMessage.started_at < now - lease, ProcessedMessage.worker.in_(silent)))
        .values(started_at=now, worker=worker))
    return result.rowcount == 1


def seen_query(account: str, key: str):
    return (select(ProcessedMessage.status, ProcessedMessage.delivery, ProcessedMessage.reply,
                   ProcessedMessage.started_at, ServerWorker.seen_at)
            .outerjoin(ServerWorker, ServerWorker.id == ProcessedMessage.worker)
            .where(ProcessedMessage.account == account, ProcessedMessage.dedup_key == key))


async def seen(session: AsyncSession, *, account: str, key: str) -> Seen | None:
    row = (await session.execute(seen_query(account, key))).first()
    return Seen(*row) if row else None


async def purge(session: AsyncSession, *, older_than: datetime) -> int:
    result = await session.execute(
        delete(ProcessedMessage).where(ProcessedMessage.started_at < older_than,
                                       ProcessedMessage.status == "done"))
    return result.rowcount
