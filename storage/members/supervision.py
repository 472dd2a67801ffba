"""督办 notices on the reminder machinery: quiet hours, one claim path, each sent exactly once.

The ticket domain decides that a ticket is overdue (storage/tickets/service.supervise); this
module decides when people hear of it. A blue or yellow ticket's 督办 — the alert to the
assignee, the level above and staff, and the status notice to its reporters — becomes reminder
rows (key "sup:{ticket}:{event}:{openid}") held out of quiet hours ([reminders] quiet_start /
quiet_end, 22:00–08:00 by default): an overdue stairwell light found at 03:00 is told at 08:00.
Outside quiet hours the rows are sent in the 督办's own transaction, through the scheduler's
``lock_keys`` → ``decide`` → ``settle``, so nobody waits for the next tick; inside, the scheduler
sends them when the quiet hours end. Either way a row goes out once, and not at all if the
ticket was finished meanwhile (``render``) or the person left it (tasks.release cancels).

A red ticket is an emergency (gas, a burst pipe, someone hurt): its 督办 goes out at once,
through the ticket domain's own notices, whatever the hour.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.texts import notices
from storage import reminders
from storage.members import contacts
from storage.models import Resident
from storage.reminders import Claimed, Due, QuietHours
from storage.ticket_models import Ticket, TicketEvent
from storage.tickets import lifecycle, notify, sla
from storage.tickets.routing import Recipient

ALERT_KIND, STATUS_KIND = "sup_alert", "sup_status"  # reminder kinds: to those who act / to reporters
KINDS = (ALERT_KIND, STATUS_KIND)
URGENT_GRADES = frozenset({"red"})


def subject(ticket_id: int) -> str:
    return f"ticket:{ticket_id}"


async def announce(session: AsyncSession, ticket: Ticket, event: TicketEvent, recipients: list[Recipient], *,
                   overdue: str, due: datetime, now: datetime, settings: Settings) -> int:
    """Tell the reporters and ``recipients`` that the ticket was supervised; returns how many
    notices were queued into the outbox now (the rest wait for the end of quiet hours)."""
    if ticket.grade in URGENT_GRADES:
        told = await notify.status_changed(session, ticket, event, now=now, settings=settings)
        return told + await notify.supervised(session, ticket, event, recipients, overdue=overdue, due=due, now=now,
                                              settings=settings)
    info = await notify.facts(session, ticket)
    fields = {"number": info["number"], "summary": info["summary"], "status": info["status"],
              "time": sla.local_text(now), "ticket_id": ticket.id}
    what = notices.SUPERVISE_RESPOND if overdue == "respond" else notices.SUPERVISE_RESOLVE
    alert = notices.SUPERVISE.format(**{**info, "status": notices.STATUS_NAMES[event.from_status]},
                                     due=sla.local_text(due), what=what)
    status = notices.STATUS_NOTICE["supervised"].format(**info, note="")
    account = await contacts.account_name(session, ticket.community_id, settings)
    quiet = QuietHours.parse(settings.reminders.quiet_start, settings.reminders.quiet_end)

    def due_for(person: Recipient, kind: str, title: str, content: str) -> Due:
        notice_kind = notify.STATUS if kind == STATUS_KIND else notify.ALERT
        payload: dict[str, Any] = {**fields, "title": title, "content": content, "notice_kind": notice_kind}
        return Due(ticket.community_id, kind, subject(ticket.id), account, person.openid, now,
                   key=f"sup:{ticket.id}:{event.id}:{person.openid}", payload=payload,
                   resident_id=person.resident_id, quiet=quiet)
    dues = {d.key: d for d in [*(due_for(p, STATUS_KIND, notices.TITLE_STATUS, status)
                                 for p in await notify.reporters(session, ticket)),
                               *(due_for(p, ALERT_KIND, notices.TITLE_ALERT, alert) for p in recipients)]}
    await reminders.schedule(session, dues.values(), now=now)
    return await send_now(session, list(dues), now=now, settings=settings)


async def send_now(session: AsyncSession, keys: list[str], *, now: datetime, settings: Settings) -> int:
    """Send those of the keyed reminders that may go out now, in the caller's transaction."""
    from bot.reminder_jobs import decide  # the scheduler's own rules (quiet hours, unsubscribed, templates)

    batch = await reminders.lock_keys(session, keys, now=now)
    return len(await reminders.settle(session, batch, await decide(session, batch, now, settings), now=now))


async def render(session: AsyncSession, claimed: Claimed, resident: Resident | None,
                 now: datetime) -> tuple[str, str] | None:
    """As written — unless the ticket was finished while the notice waited for the morning."""
    ticket = await session.get(Ticket, claimed.payload.get("ticket_id"))
    if ticket is None or ticket.status not in lifecycle.ACTIVE:
        return None
    return claimed.payload.get("title", ""), claimed.payload["content"]
