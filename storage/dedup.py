"""Processed-message keys: the unique (account, key) row is what makes WeChat's retries harmless
across any number of processes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProcessedMessage


@dataclass(frozen=True, slots=True)
class Seen:
    """What a retry learns about the first attempt."""

    status: str
    delivery: str | None
    reply: dict[str, Any] | None
    started_at: datetime


async def take_over_stale(session: AsyncSession, *, account: str, key: str, now: datetime,
                          lease: timedelta) -> bool:
    """Adopt a key whose first attempt died mid-way (its lease ran out without finishing)."""
    result = await session.execute(
        update(ProcessedMessage)
        .where(ProcessedMessage.account == account, ProcessedMessage.dedup_key == key,
               ProcessedMessage.status == "running", ProcessedMessage.started_at < now - lease)
        .values(started_at=now))
    return result.rowcount == 1


async def seen(session: AsyncSession, *, account: str, key: str) -> Seen | None:
    row = (await session.execute(
        select(ProcessedMessage.status, ProcessedMessage.delivery, ProcessedMessage.reply,
               ProcessedMessage.started_at)
        .where(ProcessedMessage.account == account, ProcessedMessage.dedup_key == key))).first()
    return Seen(*row) if row else None


async def purge(session: AsyncSession, *, older_than: datetime) -> int:
    result = await session.execute(
        delete(ProcessedMessage).where(ProcessedMessage.started_at < older_than,
                                       ProcessedMessage.status == "done"))
    return result.rowcount
