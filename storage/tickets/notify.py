"""Ticket notices through the outbox: to reporters on every status change, to whoever must act.

The channel follows WeChat's rule: a customer-service message while the person's 48-hour window
is open (they wrote to us recently), a template message (``accounts.templates.<notice kind>``)
once it has closed. Someone who never wrote to us (a staff openid from config) gets a
customer-service message and the outbox worker turns it into the template if WeChat refuses.

Every notice is keyed by (ticket event, recipient), so retrying the work that caused it never
sends it twice. Residents who unsubscribed get nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import AccountSettings, Settings
from bot.outbox_worker import template_payload
from bot.texts import notices
from storage import message_log, outbox
from storage.models import Building, Resident
from storage.ticket_models import Ticket, TicketEvent
from storage.tickets import routing, sla
from storage.tickets.routing import Recipient

log = logging.getLogger("linli.tickets")

STATUS = "ticket_status"  # notice kinds: each may have its own template in accounts.templates
TASK = "ticket_task"
ALERT = "ticket_alert"


@dataclass(frozen=True)
class Notice:
    kind: str
    title: str
    content: str
    fields: dict[str, Any] = field(default_factory=dict)  # for template fields: number, status, time …

    def payload(self) -> dict[str, Any]:
        return {**self.fields, "title": self.title, "content": self.content}


async def deliver(session: AsyncSession, *, ticket: Ticket, event: TicketEvent, recipients: Iterable[Recipient],
                  notice: Notice, now: datetime, settings: Settings) -> int:
    """Queue the notice for each recipient once; returns how many were queued now."""
    account = await _account(session, ticket.community_id, settings)
    queued = 0
    for recipient in recipients:
        if recipient.resident is not None and not recipient.resident.subscribed:
            continue
        kind, payload = _channel(account, recipient, notice, now, settings)
        outbox_id = await outbox.enqueue(session, community_id=ticket.community_id, account=account.name,
                                         openid=recipient.openid, kind=kind, payload=payload, now=now,
                                         notice_kind=notice.kind, idempotency_key=f"tk{event.id}:{recipient.openid}")
        if outbox_id is None:
            continue  # already queued by an earlier attempt
        queued += 1
        await message_log.log_outbound(session, community_id=ticket.community_id, openid=recipient.openid, now=now,
                                       msg_type="text", content=notice.content, outbox_id=outbox_id,
                                       delivery="template" if kind == "template" else "customer_service")
    return queued


def _channel(account: AccountSettings, recipient: Recipient, notice: Notice, now: datetime,
             settings: Settings) -> tuple[str, dict[str, Any]]:
    resident = recipient.resident
    window = timedelta(hours=settings.tickets.service_window_hours)
    if resident is None or (resident.last_inbound_at is not None and now - resident.last_inbound_at < window):
        return "text", notice.payload()
    template = account.templates.get(notice.kind)
    if template is None:
        log.warning("account %s has no template %r: sending a customer-service message outside the window",
                    account.name, notice.kind)
        return "text", notice.payload()
    return "template", template_payload(template, notice.payload(), original_kind="text")


async def _account(session: AsyncSession, community_id: int, settings: Settings) -> AccountSettings:
    """The community's account (the first, if it has several: openids belong to one account)."""
    slug = await routing.community_slug(session, community_id)
    account = next((a for a in settings.accounts if a.community == slug), None)
    if account is None:
        raise LookupError(f"no account serves community {slug!r}")
    return account


# ---- what the notices say -------------------------------------------------------------------

async def facts(session: AsyncSession, ticket: Ticket) -> dict[str, Any]:
    """The ticket as the notice templates name it."""
    return {
        "number": ticket.number,
        "summary": summary(ticket),
        "grade": notices.GRADE_NAMES.get(ticket.grade, ticket.grade),
        "place": await place(session, ticket),
        "description": ticket.description,
        "contact": await contact(session, ticket),
        "status": notices.STATUS_NAMES.get(ticket.status, ticket.status),
        "assignee": notices.TEAM_NAMES.get(ticket.assignee_team or "", notices.UNASSIGNED),
        "respond_due": sla.local_text(ticket.respond_due_at),
        "resolve_due": sla.local_text(ticket.resolve_due_at),
        "expected": sla.expected_date_text(ticket),
    }


def summary(ticket: Ticket) -> str:
    kind = notices.KIND_NAMES.get(ticket.kind, ticket.kind)
    category = notices.CATEGORY_NAMES.get(ticket.category or "other", ticket.category)
    return f"{kind}·{category}"


async def place(session: AsyncSession, ticket: Ticket) -> str:
    parts = []
    if ticket.building_id is not None:
        building = await session.get(Building, ticket.building_id)
        if building is not None:
            parts.append(building.name)
    if ticket.unit:
        parts.append(notices.PLACE_UNIT.format(unit=ticket.unit))
    if ticket.room:
        parts.append(ticket.room)
    text = "".join(parts)
    if ticket.address and ticket.address != text:
        text = notices.PLACE_WITH_ADDRESS.format(place=text, address=ticket.address) if text else ticket.address
    return text or notices.NO_PLACE


async def contact(session: AsyncSession, ticket: Ticket) -> str:
    reporter = await session.get(Resident, ticket.reporter_resident_id) if ticket.reporter_resident_id else None
    name = (reporter.name if reporter else None) or notices.ANONYMOUS
    phone = ticket.phone if ticket.phone_consent and ticket.phone else notices.NO_PHONE
    return f"{name} {phone}"


def _fields(info: dict[str, Any], moment: datetime) -> dict[str, Any]:
    return {"number": info["number"], "summary": info["summary"], "status": info["status"],
            "time": sla.local_text(moment)}


async def reporters(session: AsyncSession, ticket: Ticket, *, exclude: int | None = None) -> list[Recipient]:
    ids = [r.resident_id for r in ticket.reporters if r.resident_id != exclude]
    if not ids:
        return []
    rows = await session.scalars(select(Resident).where(Resident.id.in_(ids)).order_by(Resident.id))
    return [Recipient(r.openid, "reporter", r) for r in rows]


async def status_changed(session: AsyncSession, ticket: Ticket, event: TicketEvent, *, now: datetime,
                         settings: Settings, exclude: int | None = None, note: str | None = None) -> int:
    """Tell every reporter (but ``exclude``, who is being answered in chat) the new status."""
    text = notices.STATUS_NOTICE.get(ticket.status)
    if text is None:
        return 0
    info = await facts(session, ticket)
    content = text.format(**info, note=notices.HANDLER_NOTE.format(note=note) if note else "")
    notice = Notice(STATUS, notices.TITLE_STATUS, content, _fields(info, now))
    return await deliver(session, ticket=ticket, event=event, recipients=await reporters(session, ticket,
                                                                                          exclude=exclude),
                         notice=notice, now=now, settings=settings)


async def new_ticket(session: AsyncSession, ticket: Ticket, event: TicketEvent, recipients: list[Recipient], *,
                     now: datetime, settings: Settings) -> int:
    """The people routed to a new ticket; a red one is an alert."""
    info = await facts(session, ticket)
    if ticket.grade == "red":
        notice = Notice(ALERT, notices.TITLE_ALERT, notices.RED_ALERT.format(**info), _fields(info, now))
    else:
        notice = Notice(TASK, notices.TITLE_TASK, notices.TASK.format(**info), _fields(info, now))
    return await deliver(session, ticket=ticket, event=event, recipients=recipients, notice=notice, now=now,
                         settings=settings)


async def assigned(session: AsyncSession, ticket: Ticket, event: TicketEvent, recipients: list[Recipient], *,
                   now: datetime, settings: Settings, note: str | None) -> int:
    info = await facts(session, ticket)
    content = notices.ASSIGNED_TO_YOU.format(**info, note=f"\n{note}" if note else "")
    return await deliver(session, ticket=ticket, event=event, recipients=recipients,
                         notice=Notice(TASK, notices.TITLE_TASK, content, _fields(info, now)), now=now,
                         settings=settings)


async def supervised(session: AsyncSession, ticket: Ticket, event: TicketEvent, recipients: list[Recipient], *,
                     overdue: str, due: datetime, now: datetime, settings: Settings) -> int:
    """``overdue``: "respond" or "resolve" — which deadline passed."""
    info = await facts(session, ticket)
    what = notices.SUPERVISE_RESPOND if overdue == "respond" else notices.SUPERVISE_RESOLVE
    content = notices.SUPERVISE.format(**{**info, "status": notices.STATUS_NAMES[event.from_status]},
                                       due=sla.local_text(due), what=what)
    return await deliver(session, ticket=ticket, event=event, recipients=recipients,
                         notice=Notice(ALERT, notices.TITLE_ALERT, content, _fields(info, now)), now=now,
                         settings=settings)


async def reopened(session: AsyncSession, ticket: Ticket, event: TicketEvent, recipients: list[Recipient], *,
                   now: datetime, settings: Settings) -> int:
    info = await facts(session, ticket)
    comment = (event.data or {}).get("comment")
    content = notices.REOPENED_ALERT.format(**info, comment=notices.REOPEN_COMMENT.format(comment=comment)
                                            if comment else "")
    return await deliver(session, ticket=ticket, event=event, recipients=recipients,
                         notice=Notice(ALERT, notices.TITLE_ALERT, content, _fields(info, now)), now=now,
                         settings=settings)
