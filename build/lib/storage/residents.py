"""Residents, found or created by openid on their first message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Resident
from storage.sql import upsert_insert


async def touch(session: AsyncSession, *, community_id: int, openid: str, now: datetime,
                inbound: bool) -> Resident:
    """Find or create the resident in one statement; an inbound message opens the 48-hour window."""
    statement = upsert_insert(session, Resident).values(community_id=community_id, openid=openid, roles=[],
                                                        subscribed=True, created_at=now,
                                                        last_inbound_at=now if inbound else None)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["community_id", "openid"],
        set_={"last_inbound_at": excluded.last_inbound_at if inbound else Resident.last_inbound_at})
    statement = select(Resident).from_statement(statement.returning(Resident))
    return (await session.execute(statement, execution_options={"populate_existing": True})).scalar_one()


async def mark_unsubscribed(session: AsyncSession, *, community_id: int, openid: str, now: datetime) -> None:
    await session.execute(update(Resident).where(Resident.community_id == community_id, Resident.openid == openid)
                          .values(subscribed=False, unsubscribed_at=now))
