"""One ticket: the resident's whole thread, photos, the event log, the SLA clock, and the actions
(reply through the outbox, assign, change status, internal note, canned replies).

Actions post a form and come back to the page (post/redirect/get). The ticket API's errors
(TicketError, IllegalTransition, Conflict) carry a Chinese sentence: the page shows it as it is.
Every action passes the version the page showed, so acting on a stale page is a Conflict rather
than overwriting someone else's change.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.console import answer, slaclock
from bot.console import view as cw
from bot.texts import console as texts
from bot.texts import notices
from storage import tickets
from storage.models import Building, Grid, Resident
from storage.staff import canned, inbox, replies
from storage.ticket_models import Ticket, TicketEvent, TicketReporter

TEAMS = ("member_household", "grid_worker", "staff", "mediation", "street")
STATUS_ORDER = ("resolved", "assigned", "feedback", "closed", "reopened", "triaged", "supervised", "received")  # likeliest first


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/tickets/{id:\\d+}", page)
    router.add_post("/tickets/{id:\\d+}/reply", reply)
    router.add_post("/tickets/{id:\\d+}/note", note)
    router.add_post("/tickets/{id:\\d+}/assign", assign)
    router.add_post("/tickets/{id:\\d+}/status", status)


async def _ticket(session, request: web.Request) -> Ticket:
    """The ticket of the URL, if it is within the staff member's reach (else 404: no hint it exists)."""
    member = cw.staff(request)
    member.require("tickets")
    ticket = await session.get(Ticket, cw.path_id(request))
    if ticket is None or not member.sees_ticket(ticket):
        raise web.HTTPNotFound()
    return ticket


async def page(request: web.Request, *, error: str | None = None, status: int = 200,
               kept: dict[str, str] | None = None) -> web.Response:
    services = cw.services(request)
    async with services.db.sessions() as session:
        ticket = await _ticket(session, request)
        context = await _context(session, request, ticket)
    context.update(error=error, kept=kept or {})
    return await cw.render(request, "tickets/ticket.html", context, status=status)


async def _context(session, request: web.Request, ticket: Ticket) -> dict[str, Any]:
    services = cw.services(request)
    reporters = (await session.execute(
        select(TicketReporter, Resident).join(Resident, Resident.id == TicketReporter.resident_id)
        .where(TicketReporter.ticket_id == ticket.id).order_by(TicketReporter.id))).all()
    chosen = cw.int_or_none(request.query.get("who")) or ticket.reporter_resident_id
    resident = next((r for _, r in reporters if r.id == chosen), reporters[0][1] if reporters else None)
    before = cw.int_or_none(request.query.get("before"))
    shown = (await replies.window(session, community_id=ticket.community_id, openid=resident.openid, before_id=before)
             if resident else replies.Window([], False))
    events = list(await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                        .order_by(TicketEvent.id)))
    return {
        "ticket": ticket, "reporters": reporters, "resident": resident, "lines": shown.lines, "window": shown,
        "before": before, "events": events,
        "grid": await session.get(Grid, ticket.grid_id) if ticket.grid_id else None,
        "building": await session.get(Building, ticket.building_id) if ticket.building_id else None,
        "assignee": await session.get(Resident, ticket.assignee_resident_id) if ticket.assignee_resident_id else None,
        "people": await inbox.handlers(session, ticket.community_id), "teams": TEAMS,
        "next_statuses": sorted(tickets.TRANSITIONS.get(ticket.status, ()), key=STATUS_ORDER.index),
        "canned": await canned.all_of(session, ticket.community_id),
        "deadlines": slaclock.deadlines(ticket, services.clock()), "form_key": secrets.token_hex(16),
        "photos": [a for a in ticket.attachments if a.kind == "image"],
        "places": [a for a in ticket.attachments if a.kind == "location"],
        "event_names": texts.EVENT_ACTIONS, "max_reply": replies.MAX_LENGTH,
    }


async def _form(request: web.Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.post()).items() if k != "_csrf"}


async def reply(request: web.Request) -> web.StreamResponse:
    """Answer a reporter through the outbox; the note on the event log counts as a response."""
    services, member, form = cw.services(request), cw.staff(request), await _form(request)
    text = form.get("text", "").strip()
    try:
        answer.check_text(text)
        async with services.db.sessions.begin() as session:
            ticket = await _ticket(session, request)
            resident = await session.get(Resident, cw.int_or_none(form.get("resident_id")) or 0)
            if resident is None or not any(r.resident_id == resident.id for r in ticket.reporters):
                raise cw.Refused(texts.NOT_A_REPORTER)
            account = answer.account_to_reach(request, resident)
            outbox_id = await replies.send(session, community_id=ticket.community_id, openid=resident.openid,
                                           text=text, account=account, now=services.clock(),
                                           form_key=form.get("form_key") or secrets.token_hex(16))
            if outbox_id is not None:
                await tickets.add_note(session, ticket_id=ticket.id, actor=cw.actor_of(member), now=services.clock(),
                                       note=texts.REPLY_NOTE.format(name=resident.name or notices.ANONYMOUS, text=text))
                await cw.audit(session, request, "ticket.reply", target=f"ticket:{ticket.id}",
                               detail={"outbox_id": outbox_id, "resident_id": resident.id},
                               community_id=ticket.community_id)
    except cw.Refused as exc:
        return await page(request, error=exc.message, status=exc.status, kept=form)
    services.wake_outbox()
    raise cw.see_other(f"/tickets/{ticket.id}", done="replied", who=resident.id)


async def note(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    text = form.get("note", "").strip()
    if not text:
        return await page(request, error=texts.NOTE_EMPTY, status=400, kept=form)
    return await _act(request, form, "ticket.note", "noted",
                      lambda session, ticket, now, member: tickets.add_note(
                          session, ticket_id=ticket.id, actor=cw.actor_of(member), note=texts.NOTE_PREFIX + text,
                          now=now), {"note": text})


async def assign(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    target = form.get("assignee", "")
    person = cw.int_or_none(target[1:]) if target.startswith("r") and target[1:].isdigit() else None
    team = target[1:] if target.startswith("t") and target[1:] in TEAMS else None
    if person is None and team is None:
        return await page(request, error=texts.BAD_ASSIGNEE, status=400, kept=form)
    services = cw.services(request)
    return await _act(request, form, "ticket.assign", "assigned",
                      lambda session, ticket, now, member: tickets.assign(
                          session, ticket_id=ticket.id, actor=cw.actor_of(member), assignee_resident_id=person,
                          team=team, now=now, settings=services.settings, note=form.get("note", "").strip() or None,
                          expected_version=cw.int_or_none(form.get("version"))),
                      {"assignee": target})


async def status(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    to = form.get("to", "")
    if to not in tickets.TRANSITIONS:
        return await page(request, error=texts.BAD_STATUS, status=400, kept=form)
    services = cw.services(request)
    return await _act(request, form, "ticket.status", "status",
                      lambda session, ticket, now, member: tickets.transition(
                          session, ticket_id=ticket.id, to=to, actor=cw.actor_of(member), now=now,
                          settings=services.settings, note=form.get("note", "").strip() or None,
                          expected_version=cw.int_or_none(form.get("version"))),
                      {"to": to})


async def _act(request: web.Request, form: dict[str, str], action: str, done: str, change, detail: dict) -> web.StreamResponse:
    """Run one ticket change in a transaction with its audit row; a TicketError is shown on the page."""
    services, member = cw.services(request), cw.staff(request)
    try:
        async with services.db.sessions.begin() as session:
            ticket = await _ticket(session, request)
            await change(session, ticket, services.clock(), member)
            await cw.audit(session, request, action, target=f"ticket:{ticket.id}", detail=detail,
                           community_id=ticket.community_id)
    except tickets.TicketError as exc:
        return await page(request, error=exc.message, status=409, kept=form)
    services.wake_outbox()
    raise cw.see_other(f"/tickets/{ticket.id}", done=done)
