"""Reading tickets: by number, a resident's tickets, duplicates, the ticket awaiting a rating."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.models import Building, Resident
from storage.ticket_models import Ticket, TicketReporter
from storage.tickets.drafts import TicketDraft
from storage.tickets.lifecycle import ACTIVE, AWAITING_FEEDBACK, SUPERVISABLE


async def ticket_by_number(session: AsyncSession, *, community_id: int, number: str) -> Ticket | None:
    return await session.scalar(select(Ticket).where(Ticket.community_id == community_id,
                                                     Ticket.number == number.strip()))


async def ticket_by_source_key(session: AsyncSession, *, community_id: int, source_key: str) -> Ticket | None:
    return await session.scalar(select(Ticket).where(Ticket.community_id == community_id,
                                                     Ticket.source_key == source_key))


def _reported_by(community_id: int, resident_id: int):
    mine = select(TicketReporter.ticket_id).where(TicketReporter.resident_id == resident_id)
    return select(Ticket).where(Ticket.community_id == community_id, Ticket.id.in_(mine))


async def open_tickets_for(session: AsyncSession, *, community_id: int, resident_id: int) -> list[Ticket]:
    """The resident's tickets (reported or joined) that are not closed, newest first."""
    query = _reported_by(community_id, resident_id).where(Ticket.status != "closed")
    return list(await session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc())))


async def recent_tickets_for(session: AsyncSession, *, community_id: int, resident_id: int,
                             since: datetime) -> list[Ticket]:
    """The resident's tickets created since ``since``, closed ones included, newest first."""
    query = _reported_by(community_id, resident_id).where(Ticket.created_at >= since)
    return list(await session.scalars(query.order_by(Ticket.created_at.desc(), Ticket.id.desc())))


async def awaiting_rating(session: AsyncSession, *, community_id: int, resident_id: int) -> Ticket | None:
    """The oldest resolved ticket the resident was asked to rate and has not rated yet."""
    unrated = select(TicketReporter.ticket_id).where(TicketReporter.resident_id == resident_id,
                                                     TicketReporter.rating.is_(None))
    query = (select(Ticket).where(Ticket.community_id == community_id, Ticket.id.in_(unrated),
                                  Ticket.status.in_(AWAITING_FEEDBACK), Ticket.feedback_requested_at.is_not(None))
             .order_by(Ticket.feedback_requested_at, Ticket.id).limit(1))
    return await session.scalar(query)


async def find_duplicate(session: AsyncSession, *, community_id: int, draft: TicketDraft, now: datetime,
                         settings: Settings, reporter: Resident | None = None) -> Ticket | None:
    """An active ticket of the same category at the same place within the window (72 h).

    The same place is the same building; for a problem inside a flat (``in_flat_categories``: a
    leak, a blocked drain …) with a unit or room given, the same unit and room — two flats'
    kitchens are two problems, one stairwell light is one. For an outdoor place, or without a
    building, the same grid; with neither, the same free-text address. A report without a
    category has no duplicates (we cannot tell it is the same problem).
    """
    if not draft.category or draft.category == "other":
        return None
    since = now - timedelta(hours=settings.tickets.duplicate_window_hours)
    query = select(Ticket).where(Ticket.community_id == community_id, Ticket.category == draft.category,
                                 Ticket.status.in_(ACTIVE), Ticket.created_at >= since)
    grid_id = await grid_of(session, draft, reporter)
    if draft.building_id is not None and not draft.outdoor:
        query = query.where(Ticket.building_id == draft.building_id, Ticket.outdoor.is_(False))
        if _in_flat(draft, settings):
            query = query.where(Ticket.unit == draft.unit, Ticket.room == draft.room)  # None: IS NULL
    elif grid_id is not None:
        query = query.where(Ticket.grid_id == grid_id)
    elif draft.address:
        query = query.where(Ticket.address == draft.address.strip())
    else:
        return None
    return await session.scalar(query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))


def _in_flat(draft: TicketDraft, settings: Settings) -> bool:
    return (draft.unit is not None or draft.room is not None) and draft.category in settings.tickets.in_flat_categories


async def red_duplicate(session: AsyncSession, *, community_id: int, draft: TicketDraft, now: datetime,
                        settings: Settings) -> Ticket | None:
    """The first active red ticket of the same category (or both without one) in the same
    building — else at the same free-text place — within the last few minutes
    (``red_duplicate_window_minutes``): neighbours report one fire or one stuck lift at once,
    and staff must be alerted once, not once per neighbour."""
    window = settings.tickets.red_duplicate_window_minutes
    if not window:
        return None
    query = select(Ticket).where(Ticket.community_id == community_id, Ticket.grade == "red",
                                 Ticket.category == draft.category, Ticket.status.in_(ACTIVE),
                                 Ticket.created_at >= now - timedelta(minutes=window))
    if draft.building_id is not None:
        query = query.where(Ticket.building_id == draft.building_id)
    elif draft.address and draft.address.strip():
        query = query.where(Ticket.building_id.is_(None), Ticket.address == draft.address.strip())
    else:
        return None
    return await session.scalar(query.order_by(Ticket.created_at, Ticket.id).limit(1))


async def grid_of(session: AsyncSession, draft: TicketDraft, reporter: Resident | None) -> int | None:
    """The draft's grid: given, else its building's, else (an outdoor place in the compound) the
    grid of the reporter's building."""
    if draft.grid_id is not None:
        return draft.grid_id
    for building_id in (draft.building_id, reporter.building_id if reporter else None):
        if building_id is not None:
            building = await session.get(Building, building_id)
            if building is not None:
                return building.grid_id
    return None


async def overdue_ticket_ids(session: AsyncSession, *, now: datetime, limit: int = 500) -> list[int]:
    """Active tickets past a deadline (due at 18:00 is still on time at 18:00) and not yet supervised."""
    late = or_(Ticket.resolve_due_at < now, and_(Ticket.first_response_at.is_(None), Ticket.respond_due_at < now))
    query = (select(Ticket.id).where(Ticket.status.in_(SUPERVISABLE), Ticket.supervised_at.is_(None), late)
             .order_by(Ticket.id).limit(limit))
    return list(await session.scalars(query))


async def feedback_expired_ids(session: AsyncSession, *, now: datetime, timeout: timedelta,
                               limit: int = 500) -> list[int]:
    """Resolved tickets whose reporters were asked to rate longer than ``timeout`` ago."""
    query = (select(Ticket.id).where(Ticket.status.in_(AWAITING_FEEDBACK),
                                     Ticket.feedback_requested_at <= now - timeout)
             .order_by(Ticket.id).limit(limit))
    return list(await session.scalars(query))
