"""Canned replies (常用回复) per community."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.staff import rows
from storage.staff_models import CannedReply


async def all_of(session: AsyncSession, community_id: int) -> list[CannedReply]:
    return list(await session.scalars(select(CannedReply).where(CannedReply.community_id == community_id)
                                      .order_by(CannedReply.title)))


async def save(session: AsyncSession, *, community_id: int, title: str, body: str, by: str, now: datetime,
               reply_id: int | None = None) -> CannedReply:
    """Add one, or change the one with ``reply_id`` (of this community only); titles are unique."""
    row = await rows.edit_or_new(session, CannedReply, community_id=community_id, row_id=reply_id,
                            name_column=CannedReply.title, name=title, taken="canned_exists")
    row.title, row.body, row.updated_by, row.updated_at = title, body, by, now
    await session.flush()
    return row


async def remove(session: AsyncSession, *, community_id: int, reply_id: int) -> bool:
    return await rows.remove(session, CannedReply, community_id=community_id, row_id=reply_id)
