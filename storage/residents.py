"""Residents: changes made outside a message (a resident is created by storage.admission)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident


async def mark_unsubscribed(session: AsyncSession, *, community_id: int, openid: str, now: datetime) -> None:
    await session.execute(update(Resident).where(Resident.community_id == community_id, Resident.openid == openid)
                          .values(subscribed=False, unsubscribed_at=now))
