"""The points audit trail: every staff action on points or the catalogue leaves a row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.points_models import PointsAudit


async def record(session: AsyncSession, *, community_id: int, actor: str, action: str, now: datetime,
                 reason: str | None = None, entry_id: int | None = None, **detail: Any) -> None:
    session.add(PointsAudit(community_id=community_id, actor=actor, action=action, reason=reason,
                            entry_id=entry_id, detail=detail, created_at=now))
    await session.flush()


async def recent(session: AsyncSession, community_id: int, limit: int = 50) -> list[PointsAudit]:
    rows = await session.scalars(select(PointsAudit).where(PointsAudit.community_id == community_id)
                                 .order_by(PointsAudit.id.desc()).limit(limit))
    return list(rows.all())
