"""The ticket inbox: filters, search, sorting and paging, always inside the staff member's reach."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Grid, Resident
from storage.sql import int_or_none
from storage.ticket_models import Ticket
from storage.tickets.lifecycle import ACTIVE, STATUSES

_GRADE_ORDER = case({"red": 0, "yellow": 1, "blue": 2}, value=Ticket.grade)
# Every key the inbox's column headers can ask for (tickets/_results.html toggles "x" and "-x").
SORTS = {
    "-created": (Ticket.created_at.desc(), Ticket.id.desc()),
    "created": (Ticket.created_at.asc(), Ticket.id.asc()),
    "due": (Ticket.resolve_due_at.asc(), Ticket.id.asc()),
    "-due": (Ticket.resolve_due_at.desc(), Ticket.id.desc()),
    "-updated": (Ticket.updated_at.desc(), Ticket.id.desc()),
    "grade": (_GRADE_ORDER, Ticket.created_at.desc()),  # red first
    "-grade": (_GRADE_ORDER.desc(), Ticket.created_at.desc()),  # blue first
}
STATUS_CHOICES = ("open", "all", *STATUSES)  # open: being worked on (not resolved, not closed)


@dataclass(frozen=True)
class Filters:
    status: str = "open"
    grade: str = ""
    kind: str = ""
    category: str = ""
    grid: int | None = None
    assignee: str = ""  # "r<resident id>" | "t<team>" | "none"
    overdue: bool = False
    q: str = ""
    sort: str = "-created"
    page: int = 1

    @classmethod
    def parse(cls, query: Any) -> Filters:
        """From the page's query string; anything unknown falls back to the default."""
        def text(name: str, limit: int = 40) -> str:
            return str(query.get(name, "") or "").strip()[:limit]
        status = text("status") or "open"
        sort = text("sort") or "-created"
        return cls(status=status if status in STATUS_CHOICES else "open", grade=text("grade"), kind=text("kind"),
                   category=text("category"), grid=_int(query.get("grid")), assignee=text("assignee"),
                   overdue=query.get("overdue") in ("1", "on", "true"), q=text("q", 100),
                   sort=sort if sort in SORTS else "-created", page=max(1, _int(query.get("page")) or 1))

    def query(self, **changes: Any) -> dict[str, str]:
        """The filters as query parameters (defaults left out), with some changed."""
        current = replace(self, **changes)
        out = {}
        for f in fields(self):
            value = getattr(current, f.name)
            if value != f.default and value not in ("", None, False):
                out[f.name] = "1" if value is True else str(value)
        return out


_int = int_or_none  # None also beyond an INTEGER column's range (PostgreSQL's is 32 bits)


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    reporter: str | None
    grid: str | None
    assignee: str | None
    overdue: bool


def overdue_clause(now: datetime):
    """Being worked on and past a deadline: resolve by, or respond by with no response yet."""
    return and_(Ticket.status.in_(ACTIVE), or_(Ticket.resolve_due_at <= now,
                                               and_(Ticket.first_response_at.is_(None), Ticket.respond_due_at <= now)))


def reach_clause(community_id: int, grid_ids: frozenset[int] | None):
    where = [Ticket.community_id == community_id]
    if grid_ids is not None:
        where.append(Ticket.grid_id.in_(list(grid_ids)))
    return and_(*where)


async def search(session: AsyncSession, *, community_id: int, grid_ids: frozenset[int] | None, filters: Filters,
                 now: datetime, page_size: int) -> tuple[list[Row], int]:
    """One page of tickets and the total that match."""
    where = [reach_clause(community_id, grid_ids), *_conditions(filters, now)]
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    reporter, assignee = aliased(Resident), aliased(Resident)
    late = overdue_clause(now)
    query = (select(Ticket, reporter.name, Grid.name, assignee.name, late)
             .outerjoin(reporter, reporter.id == Ticket.reporter_resident_id)
             .outerjoin(assignee, assignee.id == Ticket.assignee_resident_id)
             .outerjoin(Grid, Grid.id == Ticket.grid_id)
             .where(*where).order_by(*SORTS[filters.sort])
             .offset((filters.page - 1) * page_size).limit(page_size))
    rows = (await session.execute(query)).all()
    return [Row(t, r, g, a, bool(o)) for t, r, g, a, o in rows], total


def _conditions(filters: Filters, now: datetime) -> list:
    where: list = []
    if filters.status == "open":
        where.append(Ticket.status.in_(ACTIVE))
    elif filters.status != "all":
        where.append(Ticket.status == filters.status)
    for column, value in ((Ticket.grade, filters.grade), (Ticket.kind, filters.kind),
                          (Ticket.category, filters.category)):
        if value:
            where.append(column == value)
    if filters.grid is not None:
        where.append(Ticket.grid_id == filters.grid)
    if filters.assignee == "none":
        where.append(Ticket.assignee_team.is_(None))
    elif filters.assignee.startswith("r") and _int(filters.assignee[1:]) is not None:
        where.append(Ticket.assignee_resident_id == _int(filters.assignee[1:]))
    elif filters.assignee.startswith("t") and len(filters.assignee) > 1:
        where.append(and_(Ticket.assignee_team == filters.assignee[1:], Ticket.assignee_resident_id.is_(None)))
    if filters.overdue:
        where.append(overdue_clause(now))
    if filters.q:
        # icontains (lower() on both sides): SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
        reporter_ids = select(Resident.id).where(or_(Resident.name.icontains(filters.q, autoescape=True),
                                                     Resident.phone.contains(filters.q, autoescape=True)))
        where.append(or_(Ticket.number.contains(filters.q, autoescape=True),
                         Ticket.description.icontains(filters.q, autoescape=True),
                         Ticket.address.icontains(filters.q, autoescape=True),
                         Ticket.reporter_resident_id.in_(reporter_ids)))
    return where


async def handlers(session: AsyncSession, community_id: int) -> list[Resident]:
    """People a ticket can be given to: member households and grid workers of the community."""
    from storage.members.roles import holders

    return await holders(session, community_id=community_id)


async def grids(session: AsyncSession, community_id: int, grid_ids: frozenset[int] | None) -> list[Grid]:
    query = select(Grid).where(Grid.community_id == community_id).order_by(Grid.name)
    if grid_ids is not None:
        query = query.where(Grid.id.in_(list(grid_ids)))
    return list(await session.scalars(query))
