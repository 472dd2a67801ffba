"""Server-side console sessions: the browser keeps a random token, the database its SHA-256.

A stolen database therefore yields no usable cookies; logging out deletes the row, so the
cookie is dead everywhere at once. Each session has its own CSRF token for forms.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.staff_models import StaffAccount, StaffSession

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class Lifetime:
    idle: timedelta
    absolute: timedelta


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def start(session: AsyncSession, account: StaffAccount, *, now: datetime, lifetime: Lifetime,
                ip: str | None, user_agent: str | None) -> str:
    """Open a session; returns the token for the cookie (shown once, never stored)."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(community_id=account.community_id, staff_id=account.id, token_hash=digest(token),
                             csrf_token=secrets.token_hex(32), created_at=now, last_seen_at=now,
                             expires_at=now + lifetime.absolute, ip=(ip or "")[:64] or None,
                             user_agent=(user_agent or "")[:200] or None))
    await session.flush()
    return token


async def find(session: AsyncSession, token: str | None, *, now: datetime,
               lifetime: Lifetime) -> tuple[StaffSession, StaffAccount] | None:
    """The live session and its active account, or None (an expired row is deleted)."""
    if not token or len(token) > 100:
        return None
    row = (await session.execute(select(StaffSession, StaffAccount)
                                 .join(StaffAccount, StaffAccount.id == StaffSession.staff_id)
                                 .where(StaffSession.token_hash == digest(token)))).first()
    if row is None:
        return None
    live, account = row
    if not account.active or live.expires_at <= now or live.last_seen_at + lifetime.idle <= now:
        await session.delete(live)
        return None
    if now - live.last_seen_at >= TOUCH_EVERY:
        live.last_seen_at = now
    return live, account


async def end(session: AsyncSession, session_id: int) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.id == session_id))


async def end_all_for(session: AsyncSession, staff_id: int) -> None:
    """A disabled account or a changed password logs the person out everywhere."""
    await session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))


async def purge_expired(session: AsyncSession, *, now: datetime, lifetime: Lifetime) -> int:
    result = await session.execute(delete(StaffSession).where(
        (StaffSession.expires_at <= now) | (StaffSession.last_seen_at <= now - lifetime.idle)))
    return result.rowcount or 0
