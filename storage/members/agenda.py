"""A member household's or grid worker's to-do list: their tickets and the visits due — what
"我的任务" answers and the daily digest sends."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import members as t
from storage.members import roles, tasks, visits
from storage.models import Resident
from storage.tickets import notify


async def sections(session: AsyncSession, resident: Resident, *, now: datetime) -> list[str]:
    """The non-empty parts of the list, each a short text block."""
    parts = []
    mine = await tasks.tasks_of(session, community_id=resident.community_id, resident_id=resident.id)
    if mine:
        lines = [t.TASK_LINE.format(n=n, **await _ticket_facts(session, ticket)) for n, ticket in enumerate(mine, 1)]
        parts.append(t.TASKS_SECTION.format(count=len(mine), lines="\n".join(lines)))
    if roles.has_role(resident, roles.MEMBER):
        due = await visits.due_for_member(session, resident.id, now=now)
        if due:
            lines = [await _visit_line(session, n, visit, household, now)
                     for n, (visit, household) in enumerate(due, 1)]
            parts.append(t.VISITS_SECTION.format(count=len(due), lines="\n".join(lines)))
    if roles.has_role(resident, roles.GRID_WORKER):
        grids = await roles.grid_ids_of(session, resident)
        missed = await visits.missed_in_grids(session, resident.community_id, grids)
        if missed:
            lines = [await _missed_line(session, n, visit, household) for n, (visit, household) in enumerate(missed, 1)]
            parts.append(t.MISSED_SECTION.format(count=len(missed), lines="\n".join(lines)))
    return parts


async def _ticket_facts(session: AsyncSession, ticket) -> dict[str, str]:
    info = await notify.facts(session, ticket)
    return {key: info[key] for key in ("number", "summary", "place", "status")} | {"due": info["resolve_due"]}


async def _visit_line(session: AsyncSession, n: int, visit, household, now: datetime) -> str:
    info = (await visits.facts(session, household)).as_dict()
    late = t.VISIT_LATE if visit.due_date < visits.local_today(now) else ""
    return t.VISIT_LINE.format(n=n, **info, due=visits.day_text(visit.due_date), late=late)


async def _missed_line(session: AsyncSession, n: int, visit, household) -> str:
    info = (await visits.facts(session, household)).as_dict()
    member = await session.get(Resident, household.member_resident_id) if household.member_resident_id else None
    return t.MISSED_LINE.format(n=n, **info, due=visits.day_text(visit.due_date),
                                member=(member.name if member else None) or t.NO_MEMBER)
