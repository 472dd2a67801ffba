"""Ticket numbers: "20261123-0012" — the Asia/Shanghai date and that day's sequence per community.

One upsert per number (INSERT … ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last), so
concurrent creations get distinct, consecutive numbers; (community, number) is also unique in
tickets.

On PostgreSQL the upsert commits at once, on a connection of its own. Inside the creating
transaction it would lock the day's counter row until that transaction ends — through routing,
events, notices and the dialog, a dozen round trips — so every other creation in the community
queued behind it: under load (bench/load.py, a burst of "确认") dozens of transactions waited on
that one row for seconds. The price: a creation that fails after taking its number leaves that
number unused (a gap). On SQLite a write transaction holds the database's only write lock from
its start anyway, so the upsert stays inside it and numbers stay gap-free.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from nlp.timephrase import SHANGHAI
from storage.sql import is_postgres, upsert_insert
from storage.ticket_models import TicketCounter


async def next_number(session: AsyncSession, *, community_id: int, now: datetime) -> str:
    day = now.astimezone(SHANGHAI).strftime("%Y%m%d")
    statement = upsert_insert(session, TicketCounter).values(community_id=community_id, day=day, last=1)
    statement = statement.on_conflict_do_update(index_elements=["community_id", "day"],
                                                set_={"last": TicketCounter.last + 1}).returning(TicketCounter.last)
    if is_postgres(session) and isinstance(session.bind, AsyncEngine):
        async with session.bind.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            sequence = (await autocommit.execute(statement)).scalar_one()
    else:
        sequence = (await session.execute(statement)).scalar_one()
    return f"{day}-{sequence:04d}"
