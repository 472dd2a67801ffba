"""The SLA clock on a ticket: which deadline runs now, and how much time is left or over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.console.render import duration
from bot.texts import console as texts
from storage.tickets.lifecycle import ACTIVE


@dataclass(frozen=True)
class Deadline:
    label: str
    due: datetime
    text: str
    late: bool


def deadlines(ticket, now: datetime) -> list[Deadline]:
    """Running deadlines (respond until the first response, resolve until 化解), or how it went."""
    if ticket.status not in ACTIVE:
        if ticket.resolved_at is None:
            return []
        took = duration(ticket.resolved_at - ticket.created_at)
        late = ticket.resolved_at > ticket.resolve_due_at
        text = (texts.SLA_DONE_LATE if late else texts.SLA_DONE_IN_TIME).format(took=took)
        return [Deadline(texts.SLA_RESOLVE, ticket.resolve_due_at, text, late)]
    out = []
    if ticket.first_response_at is None:
        out.append(_running(texts.SLA_RESPOND, ticket.respond_due_at, now))
    out.append(_running(texts.SLA_RESOLVE, ticket.resolve_due_at, now))
    return out


def _running(label: str, due: datetime, now: datetime) -> Deadline:
    if due <= now:
        return Deadline(label, due, texts.SLA_OVER.format(over=duration(now - due)), True)
    return Deadline(label, due, texts.SLA_LEFT.format(left=duration(due - now)), False)
