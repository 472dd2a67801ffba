"""The three rates (三率), computed from the event log of the tickets received in a period.

For each ticket received (created) in the period, as of the moment the report is made:

- **Response rate** (响应率): tickets whose first handler action — any event by a member
  household, grid worker or staff member (an assignment, a note, a status change); the system's
  automatic routing does not count — came no later than the respond deadline set at creation,
  over the tickets that had a handler action or whose respond deadline has passed.
- **Resolution rate** (解决率): tickets whose first 化解 (an event to ``resolved``) came no later
  than the resolve deadline set at creation, over the tickets that were resolved or whose resolve
  deadline has passed. Tickets not yet due and not yet resolved are in neither count.
- **Satisfaction rate** (满意率): ratings 满意 + 基本满意 over all ratings given by reporters on
  those tickets (every ``rate`` event counts, so each reporter and each round after a 重办 counts
  once); 未评价 (no answer in time) is not a rating.

Deadlines come from the ``created`` event's data, so later changes (a 重办 sets new ones) do not
rewrite history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import notices
from storage.models import Grid
from storage.ticket_models import Ticket, TicketEvent

HANDLERS = frozenset({"member", "grid_worker", "staff"})
PLEASED = frozenset({"satisfied", "basic"})
NO_GRID = notices.NO_GRID  # the console's dashboard groups by the same name


@dataclass
class Tally:
    tickets: int = 0
    responded_in_time: int = 0
    response_measured: int = 0
    resolved_in_time: int = 0
    resolution_measured: int = 0
    satisfied: int = 0
    rated: int = 0

    def add(self, other: "Tally") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.responded_in_time, self.response_measured)

    @property
    def resolution_rate(self) -> float | None:
        return _ratio(self.resolved_in_time, self.resolution_measured)

    @property
    def satisfaction_rate(self) -> float | None:
        return _ratio(self.satisfied, self.rated)


@dataclass
class RatesReport:
    total: Tally = field(default_factory=Tally)
    by_grid: dict[str, Tally] = field(default_factory=dict)
    by_category: dict[str, Tally] = field(default_factory=dict)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def tally_ticket(ticket: Ticket, events: Iterable[TicketEvent], as_of: datetime) -> Tally:
    """One ticket's contribution to the rates (see the module docstring)."""
    events = sorted(events, key=lambda e: (e.at, e.id or 0))
    respond_due, resolve_due = _deadlines(ticket, events)
    first_action = next((e.at for e in events if e.actor_kind in HANDLERS), None)
    first_resolved = next((e.at for e in events if e.to_status == "resolved"), None)
    ratings = [(e.data or {}).get("rating") for e in events if e.action == "rate"]
    tally = Tally(tickets=1, rated=len(ratings), satisfied=sum(r in PLEASED for r in ratings))
    if first_action is not None or respond_due < as_of:
        tally.response_measured = 1
        tally.responded_in_time = int(first_action is not None and first_action <= respond_due)
    if first_resolved is not None or resolve_due < as_of:
        tally.resolution_measured = 1
        tally.resolved_in_time = int(first_resolved is not None and first_resolved <= resolve_due)
    return tally


def _deadlines(ticket: Ticket, events: list[TicketEvent]) -> tuple[datetime, datetime]:
    created = next((e for e in events if e.action == "created"), None)
    data = (created.data or {}) if created else {}
    respond = data.get("respond_due_at")
    resolve = data.get("resolve_due_at")
    return (datetime.fromisoformat(respond) if respond else ticket.respond_due_at,
            datetime.fromisoformat(resolve) if resolve else ticket.resolve_due_at)


def summarise(tickets: Iterable[tuple[Ticket, list[TicketEvent]]], as_of: datetime,
              grid_names: dict[int, str]) -> RatesReport:
    report = RatesReport()
    by_grid: dict[str, Tally] = defaultdict(Tally)
    by_category: dict[str, Tally] = defaultdict(Tally)
    for ticket, events in tickets:
        tally = tally_ticket(ticket, events, as_of)
        report.total.add(tally)
        by_grid[grid_names.get(ticket.grid_id, notices.NO_GRID)].add(tally)
        by_category[notices.CATEGORY_NAMES.get(ticket.category or "other", ticket.category)].add(tally)
    report.by_grid = dict(sorted(by_grid.items()))
    report.by_category = dict(sorted(by_category.items(), key=lambda item: (-item[1].tickets, item[0])))
    return report


async def compute(session: AsyncSession, *, community_id: int, start: datetime, end: datetime,
                  as_of: datetime) -> RatesReport:
    """The rates of the tickets received in [start, end)."""
    received = select(Ticket.id).where(Ticket.community_id == community_id, Ticket.created_at >= start,
                                       Ticket.created_at < end)
    tickets = list(await session.scalars(select(Ticket).where(Ticket.id.in_(received)).order_by(Ticket.id)))
    events: dict[int, list[TicketEvent]] = defaultdict(list)
    for event in await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(received))):
        events[event.ticket_id].append(event)
    grids = dict((await session.execute(select(Grid.id, Grid.name).where(Grid.community_id == community_id))).all())
    return summarise(((t, events[t.id]) for t in tickets), as_of, grids)
