"""The staff audit log: one row per staff action, written in the action's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.staff_models import StaffAudit


async def record(session: AsyncSession, *, community_id: int | None, staff_id: int | None, staff_name: str,
                 action: str, now: datetime, target: str | None = None, detail: dict[str, Any] | None = None,
                 ip: str | None = None) -> None:
    session.add(StaffAudit(community_id=community_id, staff_id=staff_id, staff_name=staff_name[:64], action=action,
                           target=target, detail=detail, ip=(ip or "")[:64] or None, at=now))


async def page(session: AsyncSession, *, community_id: int, offset: int, limit: int,
               action: str | None = None) -> tuple[list[StaffAudit], int]:
    """The community's entries (and deployment-level ones such as logins), newest first."""
    where = [(StaffAudit.community_id == community_id) | StaffAudit.community_id.is_(None)]
    if action:
        where.append(StaffAudit.action == action)
    total = await session.scalar(select(func.count()).select_from(StaffAudit).where(*where)) or 0
    rows = await session.scalars(select(StaffAudit).where(*where).order_by(StaffAudit.id.desc())
                                 .offset(offset).limit(limit))
    return list(rows), total
