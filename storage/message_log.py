"""The message log: every inbound and outbound message of a thread."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MessageLog


async def log_outbound(session: AsyncSession, *, community_id: int, openid: str, now: datetime, msg_type: str,
                       content: str | None, delivery: str, outbox_id: int | None = None,
                       media_id: str | None = None) -> None:
    await session.execute(insert(MessageLog).values(
        community_id=community_id, openid=openid, direction="out", msg_type=msg_type, content=content,
        media_id=media_id, delivery=delivery, outbox_id=outbox_id, created_at=now))


async def thread(session: AsyncSession, *, community_id: int, openid: str, limit: int = 200) -> list[MessageLog]:
    rows = await session.scalars(
        select(MessageLog).where(MessageLog.community_id == community_id, MessageLog.openid == openid)
        .order_by(MessageLog.id.desc()).limit(limit))
    return list(reversed(rows.all()))
