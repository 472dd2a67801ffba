"""What the intake form reads besides tickets: the community's buildings and the media a
resident sent just before reporting (a photo first, then the words, is common)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Building, MessageLog


async def buildings(session: AsyncSession, community_id: int) -> dict[str, int]:
    """The community's buildings, name → id (empty when none are registered)."""
    rows = await session.execute(select(Building.name, Building.id).where(Building.community_id == community_id)
                                 .order_by(Building.id))
    return dict(rows.all())


async def building_name(session: AsyncSession, building_id: int | None) -> str | None:
    if building_id is None:
        return None
    return await session.scalar(select(Building.name).where(Building.id == building_id))


async def recent_media(session: AsyncSession, *, community_id: int, openid: str, since: datetime) -> list[MessageLog]:
    """Photos and locations the resident sent since ``since``, oldest first: a resident often
    sends the photo first and then says what is wrong (the bot asked them to)."""
    rows = await session.scalars(
        select(MessageLog).where(MessageLog.community_id == community_id, MessageLog.openid == openid,
                                 MessageLog.direction == "in", MessageLog.msg_type.in_(("image", "location")),
                                 MessageLog.created_at >= since)
        .order_by(MessageLog.id))
    return list(rows.all())
