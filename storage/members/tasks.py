"""Tickets as tasks of member households and grid workers: take (接单), complete (完成), hand back
(转交) — all through the ticket domain's API (storage.tickets), which keeps the audit trail,
the version check and the notices to reporters.

Who may act: the person the ticket is assigned to; and, to take it, anyone of the team it was
routed to who looks after its building (member household) or grid (grid worker) while nobody has
responded yet — routing names one member household as assignee but tells all of the building's.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.texts import members as t
from bot.texts import notices
from storage import tickets
from storage.members import roles
from storage.models import Resident
from storage.ticket_models import Ticket, TicketEvent
from storage.tickets import notify, routing

ACCEPT_NOTE = "接单"


def actor_of(resident: Resident) -> tickets.Actor:
    kind = "member" if roles.has_role(resident, roles.MEMBER) else "grid_worker"
    return tickets.Actor(kind, resident.id, resident.name)


async def tasks_of(session: AsyncSession, *, community_id: int, resident_id: int) -> list[Ticket]:
    """Active tickets assigned to this person, oldest deadline first."""
    query = select(Ticket).where(Ticket.community_id == community_id, Ticket.assignee_resident_id == resident_id,
                                 Ticket.status.in_(tickets.ACTIVE))
    return list(await session.scalars(query.order_by(Ticket.resolve_due_at, Ticket.id)))


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
    above = routing.NEXT_LEVEL_UP.get(ticket.assignee_team or actor_team(resident)) or "staff"
    if above == roles.MEMBER:
        above = roles.GRID_WORKER
    team, people = await routing.members_or_fallback(session, ticket, above, settings)
    team = team or "staff"
    person = people[0].resident_id if team in routing.PERSON_TEAMS and people else None
    await tickets.assign(session, ticket_id=ticket.id, actor=actor_of(resident), assignee_resident_id=person,
                         team=team, now=now, settings=settings, note=f"转交：{reason}",
                         expected_version=ticket.version)
    return team
