"""The dashboard's figures for one community (and, for grid workers, only their grids).

Tickets received in [start, end): per local day, per category, grade and grid; the three rates
(storage.tickets.rates, the same definitions as `linli report`); tickets overdue now; volunteer
hours (checked-in sign-ups × the activity's length) and points awarded and redeemed in the period.
Counting happens in Python over one narrow query: a period is at most a year of one community's
tickets, and the same code then runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from nlp.timephrase import SHANGHAI
from storage.models import Grid
from storage.points_models import Activity, ActivitySignup, PointsEntry
from storage.staff.inbox import overdue_clause, reach_clause
from storage.ticket_models import Ticket, TicketEvent
from storage.tickets import rates

MAX_DAYS = 366
NO_GRID = rates.NO_GRID


@dataclass
class Figures:
    days: list[date]
    per_day: list[int]
    by_category: Counter
    by_grade: Counter
    by_grid: Counter
    by_status: Counter
    rates: rates.RatesReport
    overdue: list[Ticket]
    overdue_total: int
    volunteer_hours: float = 0.0
    volunteers: int = 0
    points_awarded: int = 0
    points_redeemed: int = 0
    grid_names: dict[int, str] = field(default_factory=dict)
    volunteering: bool = False  # the figures above were counted (community-wide views only)
    # per day of ``days``: volunteer hours, sign-ups checked in, points awarded and redeemed
    hours_per_day: list[float] = field(default_factory=list)
    volunteers_per_day: list[int] = field(default_factory=list)
    awarded_per_day: list[int] = field(default_factory=list)
    redeemed_per_day: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.per_day)


def local_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in Asia/Shanghai, as aware datetimes."""
    start = datetime.combine(first, datetime.min.time(), SHANGHAI)
    return start, datetime.combine(last + timedelta(days=1), datetime.min.time(), SHANGHAI)


async def figures(session: AsyncSession, *, community_id: int, grid_ids: frozenset[int] | None, first: date,
                  last: date, now: datetime, overdue_limit: int = 50) -> Figures:
    start, end = local_bounds(first, last)
    where = [reach_clause(community_id, grid_ids), Ticket.created_at >= start, Ticket.created_at < end]
    tickets = list(await session.scalars(select(Ticket).where(*where).order_by(Ticket.id)))
    grid_names = dict((await session.execute(select(Grid.id, Grid.name)
                                             .where(Grid.community_id == community_id))).all())
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    per_day = Counter(t.created_at.astimezone(SHANGHAI).date() for t in tickets)
    late = [reach_clause(community_id, grid_ids), overdue_clause(now)]
    out = Figures(
        days=days, per_day=[per_day.get(d, 0) for d in days],
        by_category=Counter(t.category or "other" for t in tickets), by_grade=Counter(t.grade for t in tickets),
        by_grid=Counter(grid_names.get(t.grid_id, NO_GRID) for t in tickets),
        by_status=Counter(t.status for t in tickets),
        rates=await _rates(session, tickets, now, grid_names),
        overdue=list(await session.scalars(select(Ticket).where(*late).order_by(Ticket.resolve_due_at)
                                           .limit(overdue_limit))),
        overdue_total=await session.scalar(select(func.count()).select_from(Ticket).where(*late)) or 0,
        grid_names=grid_names)
    if grid_ids is None:  # volunteering is community-wide; grid workers see their tickets only
        await _volunteering(session, out, community_id, start, end)
    return out


async def _rates(session: AsyncSession, tickets: list[Ticket], now: datetime,
                 grid_names: dict[int, str]) -> rates.RatesReport:
    events: dict[int, list[TicketEvent]] = defaultdict(list)
    ids = [t.id for t in tickets]
    for chunk in range(0, len(ids), 500):
        for event in await session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ids[chunk:chunk + 500]))):
            events[event.ticket_id].append(event)
    return rates.summarise(((t, events[t.id]) for t in tickets), now, grid_names)


async def _volunteering(session: AsyncSession, out: Figures, community_id: int, start: datetime,
                        end: datetime) -> None:
    """Totals and per-day series: hours on the activity's day, points on the entry's day."""
    attended = (await session.execute(
        select(ActivitySignup.resident_id, Activity.starts_at, Activity.ends_at)
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(Activity.community_id == community_id, ActivitySignup.checked_in_at.is_not(None),
               Activity.starts_at >= start, Activity.starts_at < end))).all()
    hours: Counter = Counter()
    people: Counter = Counter()
    for _, starts, ends in attended:
        day = starts.astimezone(SHANGHAI).date()
        hours[day] += (ends - starts).total_seconds() / 3600
        people[day] += 1
    out.volunteer_hours = round(sum(hours.values()), 1)
    out.volunteers = len({r for r, _, _ in attended})
    awarded, redeemed = await _points_per_day(session, community_id, start, end)
    out.points_awarded, out.points_redeemed = sum(awarded.values()), sum(redeemed.values())
    out.hours_per_day = [round(hours.get(d, 0.0), 1) for d in out.days]
    out.volunteers_per_day = [people.get(d, 0) for d in out.days]
    out.awarded_per_day = [awarded.get(d, 0) for d in out.days]
    out.redeemed_per_day = [redeemed.get(d, 0) for d in out.days]
    out.volunteering = True


async def _points_per_day(session: AsyncSession, community_id: int, start: datetime,
                          end: datetime) -> tuple[Counter, Counter]:
    """Points awarded (awards and positive adjustments) and redeemed (refunds of cancelled orders
    count back) per local day."""
    rows = (await session.execute(
        select(PointsEntry.created_at, PointsEntry.kind, PointsEntry.delta)
        .where(PointsEntry.community_id == community_id, PointsEntry.created_at >= start,
               PointsEntry.created_at < end,
               PointsEntry.kind.in_(("award", "adjustment", "redemption", "refund"))))).all()
    awarded: Counter = Counter()
    redeemed: Counter = Counter()
    for at, kind, delta in rows:
        day = at.astimezone(SHANGHAI).date()
        if kind in ("award", "adjustment") and delta > 0:
            awarded[day] += delta
        elif kind in ("redemption", "refund"):
            redeemed[day] -= delta
    return awarded, redeemed


async def tickets_for_export(session: AsyncSession, *, community_id: int, grid_ids: frozenset[int] | None,
                             first: date, last: date) -> list[Ticket]:
    start, end = local_bounds(first, last)
    return list(await session.scalars(select(Ticket).where(reach_clause(community_id, grid_ids),
                                                           Ticket.created_at >= start, Ticket.created_at < end)
                                      .order_by(Ticket.created_at, Ticket.id)))
