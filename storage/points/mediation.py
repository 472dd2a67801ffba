"""Points for mediation (调解): a yellow ticket — the community mediation team's level, for
neighbour disputes and the like — that is resolved earns ``[points] per_mediation`` for each
resident who took part: everyone who reported or joined it, and the resident it was assigned to,
if any. The source key names the ticket and the resident, so resolving again after 重办 (or a
retried change) never awards twice.

Called by storage.tickets.service when a ticket is resolved, in that transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import points as texts
from storage.points import ledger
from storage.ticket_models import TicketReporter

if TYPE_CHECKING:
    from bot.config import Settings
    from storage.ticket_models import Ticket

MEDIATION_GRADE, MEDIATION_TEAM = "yellow", "mediation"


def is_mediation(ticket: "Ticket") -> bool:
    return ticket.grade == MEDIATION_GRADE or ticket.assignee_team == MEDIATION_TEAM


async def participants(session: AsyncSession, ticket: "Ticket") -> list[int]:
    """Resident ids: the reporters (in the order they came), then the assignee."""
    reporters = list(await session.scalars(select(TicketReporter.resident_id)
                                           .where(TicketReporter.ticket_id == ticket.id)
                                           .order_by(TicketReporter.id)))
    people = [*reporters, *([ticket.assignee_resident_id] if ticket.assignee_resident_id else [])]
    return list(dict.fromkeys(people))


async def reward_mediation(session: AsyncSession, ticket: "Ticket", *, now: datetime,
                           settings: "Settings") -> int:
    """Award each participant of a resolved mediation once; returns how many were newly awarded."""
    if not is_mediation(ticket):
        return 0
    awarded = 0
    for resident_id in await participants(session, ticket):
        entry = await ledger.award_by_rule(session, settings.points, rule="mediation",
                                           community_id=ticket.community_id, resident_id=resident_id,
                                           reason=texts.REASON_MEDIATION.format(number=ticket.number),
                                           source_key=f"ticket:{ticket.id}:mediation:{resident_id}", now=now)
        awarded += entry is not None
    return awarded
