"""Ticket numbers: "20261123-0012" — the Asia/Shanghai date and that day's sequence per community.

One upsert per number (INSERT … ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last): the
counter row is locked until the creating transaction ends, so concurrent creations get distinct,
gap-free numbers on PostgreSQL and SQLite alike; (community, number) is also unique in tickets.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from nlp.timephrase import SHANGHAI
from storage.sql import upsert_insert
from storage.ticket_models import TicketCounter


async def next_number(session: AsyncSession, *, community_id: int, now: datetime) -> str:
    day = now.astimezone(SHANGHAI).strftime("%Y%m%d")
    statement = upsert_insert(session, TicketCounter).values(community_id=community_id, day=day, last=1)
    statement = statement.on_conflict_do_update(index_elements=["community_id", "day"],
                                                set_={"last": TicketCounter.last + 1})
    sequence = (await session.execute(statement.returning(TicketCounter.last))).scalar_one()
    return f"{day}-{sequence:04d}"
