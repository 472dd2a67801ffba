"""Tickets as tasks of member households and grid workers: take (接单), complete (完成), hand back
(转交) — all through the ticket domain's API (storage.tickets), which keeps the audit trail,
the version check and the notices to reporters.

Who may act: the person the ticket is assigned to; and, to take it, anyone of the team it was
routed to who looks after its building (member household) or grid (grid worker) while nobody has
responded yet — routing names one member household as assignee but tells all of the building's.

A ticket never stays with someone who can no longer act on it: when a person loses the role the
ticket came with, or stops following the account, it goes up the chain like a 转交, recorded on
its event log (``release``; the reminder tick runs ``release_orphans`` as a safety net for every
path that changes roles, the console's included).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.texts import members as t
from bot.texts import notices
from storage import reminders, tickets
from storage.members import roles, supervision
from storage.models import Resident
from storage.ticket_models import Ticket, TicketEvent
from storage.tickets import lifecycle, notify, routing

ACCEPT_NOTE = t.ACCEPT_NOTE  # stored on the event log; taken_by looks for it
PHOTO_DAYS = 1  # a photo sent this long after 完成 is still offered to the ticket


def actor_of(resident: Resident) -> tickets.Actor:
    kind = "member" if roles.has_role(resident, roles.MEMBER) else "grid_worker"
    return tickets.Actor(kind, resident.id, resident.name)


async def tasks_of(session: AsyncSession, *, community_id: int, resident_id: int) -> list[Ticket]:
    """Active tickets assigned to this person, oldest deadline first."""
    query = select(Ticket).where(Ticket.community_id == community_id, Ticket.assignee_resident_id == resident_id,
                                 Ticket.status.in_(tickets.ACTIVE))
    return list(await session.scalars(query.order_by(Ticket.resolve_due_at, Ticket.id)))


async def photo_candidates(session: AsyncSession, *, community_id: int, resident_id: int,
                           now: datetime) -> list[Ticket]:
    """The tickets a site photo from this person may belong to: their open tasks and the ones they
    finished lately (the photo often comes after 完成)."""
    recent = select(Ticket).where(Ticket.community_id == community_id, Ticket.assignee_resident_id == resident_id,
                                  Ticket.status.in_(lifecycle.AWAITING_FEEDBACK),
                                  Ticket.resolved_at >= now - timedelta(days=PHOTO_DAYS))
    return [*await tasks_of(session, community_id=community_id, resident_id=resident_id),
            *await session.scalars(recent.order_by(Ticket.resolved_at.desc(), Ticket.id))]


async def may_take(session: AsyncSession, ticket: Ticket, resident: Resident) -> bool:
    if ticket.assignee_resident_id == resident.id:
        return True
    if ticket.first_response_at is not None or ticket.assignee_team not in routing.PERSON_TEAMS:
        return False
    if ticket.assignee_team == roles.MEMBER and roles.has_role(resident, roles.MEMBER):
        return ticket.building_id in await roles.building_ids_of(session, resident)
    if ticket.assignee_team == roles.GRID_WORKER and roles.has_role(resident, roles.GRID_WORKER):
        return ticket.grid_id in await roles.grid_ids_of(session, resident)
    return False


async def taken_by(session: AsyncSession, ticket: Ticket, resident_id: int) -> bool:
    """This person already took the ticket (since it was last reopened)."""
    events = await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                   .order_by(TicketEvent.id.desc()))
    for event in events:
        if event.to_status == "reopened":
            return False
        if event.actor_id == resident_id and event.note == ACCEPT_NOTE and event.actor_kind != "resident":
            return True
    return False


async def take(session: AsyncSession, ticket: Ticket, resident: Resident, *, now: datetime,
               settings: Settings) -> Ticket:
    """接单: the ticket becomes this person's (if it was a neighbour's on paper), the response is
    recorded, and every reporter hears that the building's member household has taken it."""
    actor = actor_of(resident)
    if ticket.assignee_resident_id == resident.id and ticket.status == "assigned":
        await tickets.add_note(session, ticket_id=ticket.id, actor=actor, note=ACCEPT_NOTE, now=now)
    else:
        team = ticket.assignee_team if ticket.assignee_team in routing.PERSON_TEAMS else actor_team(resident)
        await tickets.assign(session, ticket_id=ticket.id, actor=actor, assignee_resident_id=resident.id, team=team,
                             now=now, settings=settings, note=ACCEPT_NOTE)
    ticket = await session.get(Ticket, ticket.id, populate_existing=True)
    event = await session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                 .order_by(TicketEvent.id.desc()).limit(1))
    info = await notify.facts(session, ticket)
    notice = notify.Notice(notify.STATUS, notices.TITLE_STATUS, t.ACCEPTED_NOTICE.format(**info),
                           {"number": info["number"], "summary": info["summary"], "status": info["status"],
                            "time": info["expected"]})
    await notify.deliver(session, ticket=ticket, event=event, recipients=await notify.reporters(session, ticket),
                         notice=notice, now=now, settings=settings)
    return ticket


def actor_team(resident: Resident) -> str:
    return roles.MEMBER if roles.has_role(resident, roles.MEMBER) else roles.GRID_WORKER


async def complete(session: AsyncSession, ticket: Ticket, resident: Resident, *, note: str, now: datetime,
                   settings: Settings) -> Ticket:
    """完成: 化解 with the note; the ticket domain asks the reporters to rate."""
    return await tickets.transition(session, ticket_id=ticket.id, to="resolved", actor=actor_of(resident), now=now,
                                    settings=settings, note=note, expected_version=ticket.version)


async def hand_back(session: AsyncSession, ticket: Ticket, resident: Resident, *, reason: str, now: datetime,
                    settings: Settings) -> str:
    """转交: back up the chain (member household → grid worker; grid worker → staff) with the
    reason; returns the team that has it now."""
    return await _pass_up(session, ticket, ticket.assignee_team or actor_team(resident), actor=actor_of(resident),
                          note=t.TRANSFER_NOTE.format(reason=reason), now=now, settings=settings)


async def _pass_up(session: AsyncSession, ticket: Ticket, team: str, *, actor: tickets.Actor, note: str,
                   now: datetime, settings: Settings) -> str:
    above = routing.NEXT_LEVEL_UP.get(team) or "staff"
    if above == roles.MEMBER:
        above = roles.GRID_WORKER
    found, people = await routing.members_or_fallback(session, ticket, above, settings)
    found = found or "staff"
    person = people[0].resident_id if found in routing.PERSON_TEAMS and people else None
    if ticket.assignee_resident_id is not None:  # a 督办 waiting for the morning is no longer theirs
        await reminders.cancel(session, community_id=ticket.community_id, subjects=[supervision.subject(ticket.id)],
                               resident_id=ticket.assignee_resident_id, reason="ticket handed up")
    await tickets.assign(session, ticket_id=ticket.id, actor=actor, assignee_resident_id=person, team=found, now=now,
                         settings=settings, note=note, expected_version=ticket.version)
    return found


async def release(session: AsyncSession, resident: Resident, *, role: str, now: datetime,
                  settings: Settings) -> int:
    """The person's active tickets that came with ``role`` go up the chain (they lost the role);
    returns how many."""
    mine = await tasks_of(session, community_id=resident.community_id, resident_id=resident.id)
    held = [ticket for ticket in mine if (ticket.assignee_team or role) == role]
    note = t.RELEASED_NOTE.format(role=t.ROLE_NAMES.get(role, role))
    for ticket in held:
        await _pass_up(session, ticket, role, actor=tickets.SYSTEM, note=note, now=now, settings=settings)
    return len(held)


async def release_orphans(session: AsyncSession, *, community_ids: list[int], now: datetime,
                          settings: Settings) -> int:
    """Active tickets whose assignee no longer holds the ticket's role, or unsubscribed, go up
    the chain; returns how many."""
    rows = (await session.execute(
        select(Ticket, Resident).join(Resident, Resident.id == Ticket.assignee_resident_id)
        .where(Ticket.community_id.in_(community_ids), Ticket.status.in_(tickets.ACTIVE),
               Ticket.assignee_team.in_(list(routing.PERSON_TEAMS)))
        .order_by(Ticket.id))).all()  # PostgreSQL's scan order changes as rows are updated
    moved = 0
    for ticket, person in rows:
        if roles.has_role(person, ticket.assignee_team) and person.subscribed:
            continue
        role = t.ROLE_NAMES.get(ticket.assignee_team, ticket.assignee_team)
        note = t.RELEASED_NOTE.format(role=role) if person.subscribed else t.RELEASED_UNSUBSCRIBED_NOTE
        await _pass_up(session, ticket, ticket.assignee_team, actor=tickets.SYSTEM, note=note, now=now,
                       settings=settings)
        moved += 1
    return moved
