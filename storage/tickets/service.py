"""Changing tickets: create, move through the lifecycle, assign, note, attach, join, rate.

Every change writes a ticket event (the audit trail) and bumps ``tickets.version``: the UPDATE
is guarded by ``WHERE version = ?`` (SQLAlchemy's version counter), so of two people changing the
same ticket at once exactly one wins and the other gets Conflict — as does anyone who passes the
``expected_version`` they saw and finds the ticket changed since. Notices are queued in the
same transaction (outbox), so they go out if and only if the change is committed.

None of these commit: the caller's transaction (the chat event's, a job's, the console's) does.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from bot.config import Settings
from bot.texts import notices
from storage.models import Resident
from storage.ticket_models import Ticket, TicketAttachment, TicketEvent, TicketReporter
from storage.tickets import lifecycle, notify, numbering, routing, sla
from storage.tickets.drafts import (GRADES, KINDS, RATINGS, SYSTEM, Actor, AttachmentDraft, Conflict, TicketDraft,
                                    TicketError)
from storage.tickets.queries import grid_of, ticket_by_source_key

log = logging.getLogger("linli.tickets")

RATING_ORDER = {"unsatisfied": 0, "basic": 1, "satisfied": 2}


# ---- creating --------------------------------------------------------------------------------

async def create_ticket(session: AsyncSession, *, community_id: int, reporter: Resident, draft: TicketDraft,
                        now: datetime, settings: Settings) -> Ticket:
    """File a ticket: number, grid, grade, deadlines, routing, events and notices.

    Received by the resident, triaged and (when someone can take it) assigned by the rules at
    once; the reporter learns the number and expected date from the chat reply, so only the
    people routed to it are notified here. The same ``source_key`` returns the existing ticket.
    """
    if draft.source_key:
        existing = await ticket_by_source_key(session, community_id=community_id, source_key=draft.source_key)
        if existing is not None:
            return existing
    _validate(draft)
    grade = draft.grade or settings.tickets.grade_by_category.get(draft.category or "", settings.tickets.default_grade)
    rule = sla.rule_for(settings.tickets, kind=draft.kind, category=draft.category, grade=grade)
    respond_due, resolve_due = sla.deadlines(rule, now, settings.tickets)
    ticket = Ticket(
        community_id=community_id, number=await numbering.next_number(session, community_id=community_id, now=now),
        kind=draft.kind, category=draft.category, grade=grade, status="received", building_id=draft.building_id,
        grid_id=await grid_of(session, draft, reporter), unit=draft.unit, room=draft.room,
        address=(draft.address or "").strip() or None, outdoor=draft.outdoor, description=draft.description.strip(),
        phone=draft.phone or (reporter.phone if draft.phone_consent else None), phone_consent=draft.phone_consent,
        reporter_resident_id=reporter.id, sla_rule=rule.name, respond_due_at=respond_due,
        resolve_due_at=resolve_due, source_key=draft.source_key, created_at=now, updated_at=now)
    ticket.reporters.append(TicketReporter(community_id=community_id, resident_id=reporter.id, original=True,
                                           joined_at=now))
    for attachment in draft.attachments:
        _add_attachment(ticket, attachment, Actor("resident", reporter.id, reporter.name), now)
    session.add(ticket)
    await session.flush()
    _record(session, ticket, Actor("resident", reporter.id, reporter.name), "created", now=now,
                  to_status="received", data=_due_data(ticket, rule.name))
    await _route(session, ticket, now=now, settings=settings)
    return ticket


def _validate(draft: TicketDraft) -> None:
    if draft.kind not in KINDS:
        raise TicketError(notices.BAD_KIND)
    if draft.grade is not None and draft.grade not in GRADES:
        raise TicketError(notices.BAD_GRADE)
    if not draft.description or not draft.description.strip():
        raise TicketError(notices.NO_DESCRIPTION)


async def _route(session: AsyncSession, ticket: Ticket, *, now: datetime, settings: Settings) -> None:
    """Triage by the rules, assign by the routing config, and tell the people routed to it."""
    route = await routing.route(session, ticket, settings)
    if not route.notify:
        log.warning("ticket %s (%s): nobody to route it to or tell; configure tickets.teams", ticket.number,
                    ticket.grade)
    event = _move(session, ticket, "triaged", SYSTEM, now=now, settings=settings,
                        note=notices.TRIAGE_NOTE.format(grade=notices.GRADE_NAMES[ticket.grade]))
    if route.team is not None:
        ticket.assignee_team = route.team
        ticket.assignee_resident_id = route.assignee.resident_id if route.assignee else None
        event = _move(session, ticket, "assigned", SYSTEM, now=now, settings=settings, action="assign",
                            data=_assignee_data(ticket))
    await _flush(session, ticket)
    await notify.new_ticket(session, ticket, event, route.notify, now=now, settings=settings)


# ---- the lifecycle ---------------------------------------------------------------------------

async def transition(session: AsyncSession, *, ticket_id: int, to: str, actor: Actor, now: datetime,
                     settings: Settings, note: str | None = None, expected_version: int | None = None) -> Ticket:
    """Move a ticket to ``to`` (see lifecycle.TRANSITIONS) and tell everyone concerned."""
    ticket = await _load(session, ticket_id, expected_version)
    event = _move(session, ticket, to, actor, now=now, settings=settings, note=note)
    await _flush(session, ticket)
    await _announce(session, ticket, event, now=now, settings=settings, note=note)
    if to == "resolved":
        await _reward_reporter(session, ticket, now=now, settings=settings)
        await _reward_mediation(session, ticket, now=now, settings=settings)
    return ticket


async def _reward_reporter(session: AsyncSession, ticket: Ticket, *, now: datetime, settings: Settings) -> None:
    """A report that led to a fix earns its first reporter points (积分制): once per ticket, however
    often it is resolved again after 重办."""
    from storage.points import ledger

    await ledger.award_by_rule(session, settings.points, rule="verified_report", community_id=ticket.community_id,
                               resident_id=ticket.reporter_resident_id,
                               reason=notices.VERIFIED_REPORT_REASON.format(number=ticket.number),
                               source_key=f"ticket:{ticket.id}:verified", now=now)


async def _reward_mediation(session: AsyncSession, ticket: Ticket, *, now: datetime, settings: Settings) -> None:
    """A resolved yellow (mediation) ticket earns its participants points: storage.points.mediation."""
    from storage.points.mediation import reward_mediation

    await reward_mediation(session, ticket, now=now, settings=settings)


async def assign(session: AsyncSession, *, ticket_id: int, actor: Actor, assignee_resident_id: int | None = None,
                 team: str | None = None, now: datetime, settings: Settings, note: str | None = None,
                 expected_version: int | None = None) -> Ticket:
    """Give the ticket to a person (a member household, grid worker …) or a team; the status
    becomes 交办 (a reassignment keeps it). The new assignee is told."""
    ticket = await _load(session, ticket_id, expected_version)
    person = await _assignee(session, ticket, assignee_resident_id)
    team = team or _team_of(person)
    if team not in routing.FALLBACK:
        raise TicketError(notices.UNKNOWN_TEAM.format(team=team))
    ticket.assignee_resident_id, ticket.assignee_team = (person.id if person else None), team
    to = ticket.status if ticket.status == "assigned" else "assigned"
    event = _move(session, ticket, to, actor, now=now, settings=settings, note=note, action="assign",
                        data=_assignee_data(ticket))
    await _flush(session, ticket)
    recipients = ([routing.Recipient(person.openid, team, person)] if person
                  else await routing.team_members(session, ticket, team, settings))
    await notify.assigned(session, ticket, event, recipients, now=now, settings=settings, note=note)
    if event.from_status != event.to_status:
        await notify.status_changed(session, ticket, event, now=now, settings=settings)
    return ticket


async def _assignee(session: AsyncSession, ticket: Ticket, resident_id: int | None) -> Resident | None:
    if resident_id is None:
        return None
    person = await session.get(Resident, resident_id)
    if person is None or person.community_id != ticket.community_id:
        raise TicketError(notices.NO_SUCH_ASSIGNEE)
    return person


def _team_of(person: Resident | None) -> str:
    if person is None:
        raise TicketError(notices.NOBODY_TO_ASSIGN)
    roles = person.roles or []
    return next((team for team in routing.PERSON_TEAMS if team in roles), "staff")


async def add_note(session: AsyncSession, *, ticket_id: int, actor: Actor, note: str, now: datetime) -> None:
    """A note on the audit trail; a handler's note counts as the ticket's first response."""
    if not note or not note.strip():
        raise TicketError(notices.EMPTY_NOTE)
    ticket = await _load(session, ticket_id, None)
    _touch(ticket, actor, now)
    _record(session, ticket, actor, "note", now=now, note=note.strip())
    await _flush(session, ticket)


async def attach(session: AsyncSession, *, ticket_id: int, attachment: AttachmentDraft, actor: Actor,
                 now: datetime) -> None:
    """Add a photo or location; the same photo (media id) or spot twice is kept once."""
    ticket = await _load(session, ticket_id, None)
    if _has_attachment(ticket, attachment):
        return
    _add_attachment(ticket, attachment, actor, now)
    _touch(ticket, actor, now)
    _record(session, ticket, actor, "attach", now=now, note=attachment.label,
                  data={"kind": attachment.kind, "media_id": attachment.media_id})
    await _flush(session, ticket)


async def join_ticket(session: AsyncSession, *, ticket: Ticket, resident: Resident, now: datetime,
                      note: str | None = None) -> bool:
    """Add the resident as a reporter (they get every update); False if they already are one.
    ``note``: what they said (a second red report's words), kept on the join event.

    The ticket row itself is left alone, so joining never makes a staff member's change conflict.
    """
    if any(r.resident_id == resident.id for r in ticket.reporters):
        return False
    session.add(TicketReporter(community_id=ticket.community_id, ticket_id=ticket.id, resident_id=resident.id,
                               joined_at=now))
    _record(session, ticket, Actor("resident", resident.id, resident.name), "join", now=now,
            note=(note or "").strip() or None)
    await session.flush()
    await session.refresh(ticket, ["reporters"])
    return True


async def rate(session: AsyncSession, *, ticket_id: int, resident: Resident, rating: str, now: datetime,
               settings: Settings, comment: str | None = None) -> Ticket:
    """Record one reporter's 回访 answer, with what they added ("不满意，灯还是不亮").

    不满意 reopens the ticket (重办, new deadlines) and alerts staff and the assignee, the comment
    in the alert and as the reopen note. 满意 / 基本满意 moves it to 反馈; once every reporter has
    answered it is closed. The rater is answered in chat; the other reporters are told the new status.
    """
    if rating not in RATINGS:
        raise TicketError(notices.BAD_RATING)
    ticket = await _load(session, ticket_id, None)
    reporter = next((r for r in ticket.reporters if r.resident_id == resident.id), None)
    if reporter is None:
        raise TicketError(notices.NOT_A_REPORTER.format(number=ticket.number))
    if ticket.status not in lifecycle.AWAITING_FEEDBACK or reporter.rating is not None:
        raise TicketError(notices.NOT_AWAITING_RATING.format(number=ticket.number))
    actor = Actor("resident", resident.id, resident.name)
    reporter.rating, reporter.rated_at = rating, now
    ticket.rating = min((r.rating for r in ticket.reporters if r.rating), key=RATING_ORDER.__getitem__)
    comment = (comment or "").strip() or None
    note = notices.RATING_WITH_COMMENT.format(rating=notices.RATING_NAMES[rating], comment=comment) if comment \
        else notices.RATING_NAMES[rating]
    _record(session, ticket, actor, "rate", now=now, note=note, data={"rating": rating, "comment": comment})
    if rating == "unsatisfied":
        event = _move(session, ticket, "reopened", actor, now=now, settings=settings, note=note,
                      data={"comment": comment})
    else:
        event = None
        if ticket.status == "resolved":
            event = _move(session, ticket, "feedback", SYSTEM, now=now, settings=settings)
        if all(r.rating for r in ticket.reporters):
            event = _move(session, ticket, "closed", SYSTEM, now=now, settings=settings)
    await _flush(session, ticket)
    if event is not None:
        await _announce(session, ticket, event, now=now, settings=settings, exclude=resident.id)
    return ticket


# ---- used by the jobs ------------------------------------------------------------------------

async def supervise_if_overdue(session: AsyncSession, *, ticket_id: int, now: datetime, settings: Settings) -> bool:
    """督办 the ticket if it is (still) overdue and not yet supervised for its current deadlines."""
    ticket = await _load(session, ticket_id, None)
    if ticket.status not in lifecycle.SUPERVISABLE or ticket.supervised_at is not None:
        return False
    if ticket.first_response_at is None and ticket.respond_due_at < now:
        overdue = "respond"
    elif ticket.resolve_due_at < now:
        overdue = "resolve"
    else:
        return False
    await supervise(session, ticket=ticket, overdue=overdue, now=now, settings=settings)
    return True


async def close_if_feedback_expired(session: AsyncSession, *, ticket_id: int, now: datetime,
                                    settings: Settings) -> bool:
    ticket = await _load(session, ticket_id, None)
    if ticket.status not in lifecycle.AWAITING_FEEDBACK or ticket.feedback_requested_at is None:
        return False
    if now - ticket.feedback_requested_at < timedelta(days=settings.tickets.feedback_timeout_days):
        return False
    await close_without_feedback(session, ticket=ticket, now=now, settings=settings)
    return True


async def supervise(session: AsyncSession, *, ticket: Ticket, overdue: str, now: datetime,
                    settings: Settings) -> TicketEvent:
    """督办: the ticket passed its ``overdue`` ("respond" / "resolve") deadline. The reporters, the
    assignee, the next level up and staff are told — held out of quiet hours unless the ticket is
    red (storage/members/supervision.py)."""
    from storage.members import supervision  # builds on this module's package

    due = ticket.respond_due_at if overdue == "respond" else ticket.resolve_due_at
    what = notices.SUPERVISE_RESPOND if overdue == "respond" else notices.SUPERVISE_RESOLVE
    event = _move(session, ticket, "supervised", SYSTEM, now=now, settings=settings,
                        note=notices.SUPERVISE_NOTE.format(what=what, due=sla.local_text(due)), data={"overdue": overdue})
    await _flush(session, ticket)
    await supervision.announce(session, ticket, event, await _escalation(session, ticket, settings), overdue=overdue,
                               due=due, now=now, settings=settings)
    return event


async def close_without_feedback(session: AsyncSession, *, ticket: Ticket, now: datetime,
                                 settings: Settings) -> TicketEvent:
    """No answer within the feedback window: recorded as 未评价 for those who did not rate, closed."""
    silent = [r.resident_id for r in ticket.reporters if r.rating is None]
    if ticket.rating is None:
        ticket.rating = "none"
    _record(session, ticket, SYSTEM, "no_feedback", now=now, note=notices.RATING_NAMES["none"],
                  data={"residents": silent})
    if ticket.status == "resolved":
        _move(session, ticket, "feedback", SYSTEM, now=now, settings=settings)
    event = _move(session, ticket, "closed", SYSTEM, now=now, settings=settings)
    await _flush(session, ticket)
    await notify.status_changed(session, ticket, event, now=now, settings=settings)
    return event


async def _escalation(session: AsyncSession, ticket: Ticket, settings: Settings) -> list[routing.Recipient]:
    """The assignee, the level above the assignee's team, and community staff."""
    people: list[routing.Recipient] = []
    if ticket.assignee_resident_id is not None:
        person = await session.get(Resident, ticket.assignee_resident_id)
        if person is not None:
            people.append(routing.Recipient(person.openid, ticket.assignee_team or "staff", person))
    elif ticket.assignee_team:
        people += await routing.team_members(session, ticket, ticket.assignee_team, settings)
    above = routing.NEXT_LEVEL_UP.get(ticket.assignee_team)
    if above is not None:
        people += (await routing.members_or_fallback(session, ticket, above, settings))[1]
    people += await routing.team_members(session, ticket, "staff", settings)
    return routing.unique(people)


# ---- the mechanics ---------------------------------------------------------------------------

async def _load(session: AsyncSession, ticket_id: int, expected_version: int | None) -> Ticket:
    ticket = await session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise TicketError(notices.NOT_FOUND)
    if expected_version is not None and ticket.version != expected_version:
        raise Conflict(notices.CONFLICT.format(number=ticket.number))
    return ticket


async def _flush(session: AsyncSession, ticket: Ticket) -> None:
    """Write the changes; an UPDATE that finds the version changed under it means we lost."""
    number = ticket.number  # read now: a failed flush expires the object
    try:
        await session.flush()
    except StaleDataError:
        raise Conflict(notices.CONFLICT.format(number=number)) from None


def _move(session: AsyncSession, ticket: Ticket, to: str, actor: Actor, *, now: datetime,
                settings: Settings, note: str | None = None, action: str = "transition",
                data: dict[str, Any] | None = None) -> TicketEvent:
    """Apply one status change with its side effects and record it."""
    current = ticket.status
    if to != current or action != "assign":
        lifecycle.check(ticket.number, current, to)
    if (current, to) in lifecycle.NEEDS_REASON and not (note and note.strip()):
        raise TicketError(notices.CLOSE_NEEDS_REASON)
    if to == "assigned" and ticket.assignee_team is None:
        raise TicketError(notices.NOBODY_TO_ASSIGN)
    ticket.status = to
    _touch(ticket, actor, now)
    if to == "resolved":
        ticket.resolved_at = ticket.feedback_requested_at = now
    elif to == "closed":
        ticket.closed_at = now
    elif to == "supervised":
        ticket.supervised_at = now
    elif to == "reopened":
        data = {**(data or {}), **_reopen(ticket, now, settings)}
    return _record(session, ticket, actor, action, now=now, from_status=current, to_status=to, note=note,
                         data=data)


def _reopen(ticket: Ticket, now: datetime, settings: Settings) -> dict[str, Any]:
    """重办 starts the clock again: new deadlines, a new round of supervision and ratings."""
    rule = sla.rule_for(settings.tickets, kind=ticket.kind, category=ticket.category, grade=ticket.grade)
    ticket.respond_due_at, ticket.resolve_due_at = sla.deadlines(rule, now, settings.tickets)
    ticket.reopen_count += 1
    ticket.resolved_at = ticket.feedback_requested_at = ticket.supervised_at = ticket.closed_at = None
    for reporter in ticket.reporters:
        reporter.rating = reporter.rated_at = None
    return _due_data(ticket, rule.name)


def _touch(ticket: Ticket, actor: Actor, now: datetime) -> None:
    ticket.updated_at = now
    if actor.handles_tickets and ticket.first_response_at is None:
        ticket.first_response_at = now


def _record(session: AsyncSession, ticket: Ticket, actor: Actor, action: str, *, now: datetime,
                  from_status: str | None = None, to_status: str | None = None, note: str | None = None,
                  data: dict[str, Any] | None = None) -> TicketEvent:
    event = TicketEvent(community_id=ticket.community_id, ticket_id=ticket.id, at=now, actor_kind=actor.kind,
                        actor_id=actor.id, actor_name=actor.name, action=action, from_status=from_status,
                        to_status=to_status, note=note, data=data)
    session.add(event)  # flushed with the ticket, in order; its id then keys the notices it causes
    return event


async def _announce(session: AsyncSession, ticket: Ticket, event: TicketEvent, *, now: datetime,
                    settings: Settings, note: str | None = None, exclude: int | None = None) -> None:
    await notify.status_changed(session, ticket, event, now=now, settings=settings, exclude=exclude, note=note)
    if ticket.status == "reopened":
        await notify.reopened(session, ticket, event, await _escalation(session, ticket, settings), now=now,
                              settings=settings)


def _due_data(ticket: Ticket, rule: str) -> dict[str, Any]:
    return {"sla_rule": rule, "grade": ticket.grade, "respond_due_at": ticket.respond_due_at.isoformat(),
            "resolve_due_at": ticket.resolve_due_at.isoformat()}


def _assignee_data(ticket: Ticket) -> dict[str, Any]:
    return {"team": ticket.assignee_team, "resident_id": ticket.assignee_resident_id}


def _has_attachment(ticket: Ticket, draft: AttachmentDraft) -> bool:
    for existing in ticket.attachments:
        if existing.kind != draft.kind:
            continue
        if draft.kind == "image" and (existing.media_id, existing.url) == (draft.media_id, draft.url):
            return True
        if draft.kind == "location" and (existing.latitude, existing.longitude) == (draft.latitude, draft.longitude):
            return True
    return False


def _add_attachment(ticket: Ticket, draft: AttachmentDraft, actor: Actor, now: datetime) -> None:
    if draft.kind not in ("image", "location"):
        raise TicketError(notices.BAD_ATTACHMENT)
    ticket.attachments.append(TicketAttachment(
        community_id=ticket.community_id, kind=draft.kind, media_id=draft.media_id, url=draft.url,
        latitude=draft.latitude, longitude=draft.longitude, label=draft.label, added_by_kind=actor.kind,
        added_by_id=actor.id, created_at=now))
    if draft.kind == "location" and ticket.latitude is None:
        ticket.latitude, ticket.longitude = draft.latitude, draft.longitude
