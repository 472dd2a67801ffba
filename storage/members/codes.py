"""Binding codes: staff issue a one-time 6-digit code for a role; a resident redeems it in chat.

A code is single use (redeeming is one guarded UPDATE, so two people racing for it cannot both
win), expires, and belongs to one community. Six digits are guessable, so every wrong, used or
expired code an openid sends is recorded and binding is refused once ``binding_max_failures``
fall within the window — counted in the database, so every server process sees the same count.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import MembersSettings
from storage.member_models import BindingCode, BindingFailure

ROLES = ("member_household", "grid_worker")
_KEEP_FINISHED = timedelta(days=90)  # used and expired codes stay this long for the record


@dataclass(frozen=True)
class Redeemed:
    role: str
    building_ids: list[int]
    grid_ids: list[int]
    label: str | None


async def issue(session: AsyncSession, *, community_id: int, role: str, now: datetime, settings: MembersSettings,
                building_ids: list[int] = (), grid_ids: list[int] = (), label: str | None = None,
                issued_by: str | None = None) -> BindingCode:
    """A fresh code that no row of the community holds (used and expired ones included, so an
    old code never binds again while its row is kept)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    await session.execute(delete(BindingCode).where(BindingCode.community_id == community_id,
                                                    BindingCode.expires_at < now - _KEEP_FINISHED))
    taken = set(await session.scalars(select(BindingCode.code).where(BindingCode.community_id == community_id)))
    code = next(c for c in (f"{secrets.randbelow(10**6):06d}" for _ in iter(int, 1)) if c not in taken)
    row = BindingCode(community_id=community_id, code=code, role=role, building_ids=list(building_ids),
                      grid_ids=list(grid_ids), label=label, issued_by=issued_by, created_at=now,
                      expires_at=now + timedelta(hours=settings.binding_code_ttl_hours))
    session.add(row)
    await session.flush()
    return row


async def blocked(session: AsyncSession, *, community_id: int, openid: str, now: datetime,
                  settings: MembersSettings) -> bool:
    """Too many failed codes from this openid lately."""
    since = now - timedelta(minutes=settings.binding_failure_window_minutes)
    failures = await session.scalar(select(func.count()).select_from(BindingFailure).where(
        BindingFailure.community_id == community_id, BindingFailure.openid == openid, BindingFailure.at > since))
    return failures >= settings.binding_max_failures


async def redeem(session: AsyncSession, *, community_id: int, code: str, resident_id: int,
                 now: datetime) -> Redeemed | None:
    """Use the code if it is valid; None if it is unknown, used or expired."""
    c = BindingCode
    result = await session.execute(
        update(c).where(c.community_id == community_id, c.code == code, c.used_at.is_(None), c.expires_at > now)
        .values(used_at=now, used_by_resident_id=resident_id)
        .returning(c.role, c.building_ids, c.grid_ids, c.label).execution_options(synchronize_session=False))
    row = result.first()
    return Redeemed(row.role, list(row.building_ids or []), list(row.grid_ids or []), row.label) if row else None


async def why_not(session: AsyncSession, *, community_id: int, code: str, now: datetime) -> str:
    """"unknown", "used" or "expired" — said after a failed redeem."""
    row = await session.scalar(select(BindingCode).where(BindingCode.community_id == community_id,
                                                         BindingCode.code == code))
    if row is None:
        return "unknown"
    return "used" if row.used_at is not None else "expired" if row.expires_at <= now else "unknown"


async def record_failure(session: AsyncSession, *, community_id: int, openid: str, now: datetime) -> None:
    await session.execute(delete(BindingFailure).where(BindingFailure.at < now - timedelta(days=1)))
    await session.execute(insert(BindingFailure).values(community_id=community_id, openid=openid, at=now))


async def listing(session: AsyncSession, *, community_id: int, now: datetime) -> list[BindingCode]:
    """Codes still usable, newest first."""
    query = (select(BindingCode).where(BindingCode.community_id == community_id, BindingCode.used_at.is_(None),
                                       BindingCode.expires_at > now).order_by(BindingCode.id.desc()))
    return list(await session.scalars(query))
