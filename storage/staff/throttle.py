"""The login rate limit: failed tries per username (since its last success) and per address.

Checked before the password is, so a locked-out attacker learns nothing and costs no argon2 work.

The check and the record of the try are one step (``admit``): the try is written as a failure
in the same transaction as the count that allowed it, and marked a success afterwards
(``settle``) if the password was right. So twenty simultaneous wrong passwords are five
failures and fifteen refusals, not twenty argon2 checks: each admitted try is counted before the
next one is checked. Concurrent transactions are serialised by the database itself — on
PostgreSQL by transaction-scoped advisory locks on the username and the address (taken in one
order, so two logins never deadlock), on SQLite by its single writer (transactions begin
IMMEDIATE) — so the limit holds across server processes too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.sql import is_postgres
from storage.staff_models import LoginAttempt


@dataclass(frozen=True)
class Limits:
    window: timedelta
    per_username: int
    per_ip: int


async def admit(session: AsyncSession, *, username: str, ip: str, now: datetime, limits: Limits) -> int | None:
    """The id of this try, recorded as a failure until ``settle`` says otherwise; None when the
    limits refuse it (nothing is recorded then)."""
    username, ip = username[:64], ip[:64]
    await _serialise(session, username, ip)
    if await blocked(session, username=username, ip=ip, now=now, limits=limits):
        return None
    attempt = LoginAttempt(username=username, ip=ip, success=False, at=now)
    session.add(attempt)
    await session.flush()
    return attempt.id


async def settle(session: AsyncSession, attempt_id: int) -> None:
    """The password was right: the try is a success (and the username's count starts again)."""
    await session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(success=True))


async def _serialise(session: AsyncSession, username: str, ip: str) -> None:
    """Hold the username's and the address's locks until the transaction ends (PostgreSQL)."""
    if not is_postgres(session):
        return  # SQLite: the transaction already holds the database's one write lock
    for key in sorted({_lock_key("user", username), _lock_key("ip", ip)}):
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _lock_key(kind: str, value: str) -> int:
    digest = hashlib.sha256(f"linli-login:{kind}:{value}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


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


async def purge(session: AsyncSession, *, older_than: datetime) -> int:
    result = await session.execute(delete(LoginAttempt).where(LoginAttempt.at < older_than))
    return result.rowcount or 0
