"""Residents, found or created by openid on their first message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident
from storage.sql import upsert_insert


async def get_or_create(session: AsyncSession, *, community_id: int, openid: str) -> Resident:
    resident = await _find(session, community_id, openid)
    if resident is None:
        await session.execute(upsert_insert(session, Resident)
                              .values(community_id=community_id, openid=openid, roles=[], subscribed=True)
                              .on_conflict_do_nothing(index_elements=["community_id", "openid"]))
        resident = await _find(session, community_id, openid)
    assert resident is not None
    return resident


async def _find(session: AsyncSession, community_id: int, openid: str) -> Resident | None:
    return await session.scalar(select(Resident).where(Resident.community_id == community_id,
                                                       Resident.openid == openid))


async def mark_unsubscribed(session: AsyncSession, *, community_id: int, openid: str, now: datetime) -> None:
    await session.execute(update(Resident).where(Resident.community_id == community_id, Resident.openid == openid)
                          .values(subscribed=False, unsubscribed_at=now))
