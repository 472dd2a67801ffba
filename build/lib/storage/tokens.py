"""The shared access_token row per AppID and its cross-process refresh lease.

WeChat invalidates the previous token on every fetch and caps fetches per day, so all
processes must share one token and only one of them may refresh it at a time. The lease is a
timestamp in the row, taken by a single conditional UPDATE: whoever's UPDATE matches the row
refreshes, everyone else waits for the new token to appear. Each function is one short
statement; the caller commits right away and never holds a transaction across HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AccessToken
from storage.sql import upsert_insert


@dataclass(frozen=True, slots=True)
class StoredToken:
    token: str | None
    expires_at: datetime | None
    refreshing_until: datetime | None


async def read(session: AsyncSession, appid: str) -> StoredToken | None:
    row = (await session.execute(
        select(AccessToken.token, AccessToken.expires_at, AccessToken.refreshing_until)
        .where(AccessToken.appid == appid))).first()
    return StoredToken(*row) if row else None


async def ensure_row(session: AsyncSession, appid: str, now: datetime) -> None:
    """Create the empty row so the lease UPDATE has something to match."""
    await session.execute(upsert_insert(session, AccessToken)
                          .values(appid=appid, token=None, expires_at=None, refreshing_until=None, updated_at=now)
                          .on_conflict_do_nothing(index_elements=["appid"]))


async def acquire_lease(session: AsyncSession, appid: str, *, now: datetime, lease_until: datetime,
                        fresh_until: datetime, stale_token: str | None) -> bool:
    """Take the refresh lease if nobody holds it and the token still needs refreshing.

    "Needs refreshing" is checked in the same statement, so a process that lost the race to a
    refresh that has already finished does not refresh again (which, forced, would invalidate
    the token the winner just stored): the token is missing, expires before ``fresh_until``, or
    is still the ``stale_token`` the caller saw rejected.
    """
    needs = or_(AccessToken.token.is_(None), AccessToken.expires_at.is_(None),
                AccessToken.expires_at <= fresh_until)
    if stale_token is not None:
        needs = or_(needs, AccessToken.token == stale_token)
    free = or_(AccessToken.refreshing_until.is_(None), AccessToken.refreshing_until < now)
    result = await session.execute(
        update(AccessToken).where(AccessToken.appid == appid, and_(free, needs))
        .values(refreshing_until=lease_until, updated_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def store(session: AsyncSession, appid: str, *, token: str, expires_at: datetime, now: datetime) -> None:
    """Save a fetched token and release the lease."""
    await session.execute(
        update(AccessToken).where(AccessToken.appid == appid)
        .values(token=token, expires_at=expires_at, refreshing_until=None, updated_at=now)
        .execution_options(synchronize_session=False))


async def release_lease(session: AsyncSession, appid: str, *, now: datetime) -> None:
    """Give the lease back after a failed fetch so another caller can try at once."""
    await session.execute(
        update(AccessToken).where(AccessToken.appid == appid)
        .values(refreshing_until=None, updated_at=now)
        .execution_options(synchronize_session=False))
