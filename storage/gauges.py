"""Read-only queries behind /readyz and the database gauges of /metrics.

Each is one statement on an index (outbox: ``ix_outbox_due`` on status; tickets:
``ix_tickets_open`` on community and status), so a scrape costs a few milliseconds even on a
large database. They never write and never lock.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage
from storage.outbox import UNSENT
from storage.ticket_models import Ticket
from storage.tickets.lifecycle import ACTIVE


async def ping(session: AsyncSession) -> None:
    """The cheapest round trip that proves the database answers."""
    await session.execute(text("SELECT 1"))


@dataclass(frozen=True, slots=True)
class Backlog:
    unsent: int  # outbox rows pending or being sent
    oldest_created_at: datetime | None


async def outbox_backlog(session: AsyncSession) -> Backlog:
    o = OutboxMessage
    count, oldest = (await session.execute(
        select(func.count(), func.min(o.created_at)).where(o.status.in_(UNSENT)))).one()
    return Backlog(count, oldest)


@dataclass(frozen=True, slots=True)
class Overdue:
    community_id: int
    respond: int  # active tickets nobody answered by the respond deadline
    resolve: int  # active tickets past the resolve deadline
    supervised: int  # tickets in 督办 now


async def overdue_tickets(session: AsyncSession, *, community_ids: Collection[int], now: datetime) -> list[Overdue]:
    """Active tickets past a deadline, per community: the same rule as queries.overdue_ticket_ids."""
    t = Ticket
    late_respond = and_(t.first_response_at.is_(None), t.respond_due_at < now)
    rows = await session.execute(
        select(t.community_id, func.count().filter(late_respond), func.count().filter(t.resolve_due_at < now),
               func.count().filter(t.status == "supervised"))
        .where(t.community_id.in_(list(community_ids)), t.status.in_(ACTIVE),
               or_(late_respond, t.resolve_due_at < now, t.status == "supervised"))
        .group_by(t.community_id))
    return [Overdue(*row) for row in rows]
