"""The login rate limit: failed tries per username (since its last success) and per address.

Checked before the password is, so a locked-out attacker learns nothing and costs no argon2 work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.staff_models import LoginAttempt


@dataclass(frozen=True)
class Limits:
    window: timedelta
    per_username: int
    per_ip: int


async def blocked(session: AsyncSession, *, username: str, ip: str, now: datetime, limits: Limits) -> bool:
    since = now - limits.window
    last_success = await session.scalar(select(func.max(LoginAttempt.id)).where(
        LoginAttempt.username == username, LoginAttempt.success.is_(True), LoginAttempt.at >= since))
    by_user = await _failures(session, since, LoginAttempt.username == username, LoginAttempt.id > (last_success or 0))
    if by_user >= limits.per_username:
        return True
    return await _failures(session, since, LoginAttempt.ip == ip) >= limits.per_ip


async def _failures(session: AsyncSession, since: datetime, *where) -> int:
    return await session.scalar(select(func.count()).select_from(LoginAttempt)
                                .where(*where, LoginAttempt.success.is_(False), LoginAttempt.at >= since)) or 0


async def record(session: AsyncSession, *, username: str, ip: str, success: bool, now: datetime) -> None:
    session.add(LoginAttempt(username=username[:64], ip=ip[:64], success=success, at=now))
    await session.flush()


async def purge(session: AsyncSession, *, older_than: datetime) -> int:
    result = await session.execute(delete(LoginAttempt).where(LoginAttempt.at < older_than))
    return result.rowcount or 0
