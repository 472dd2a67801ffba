"""What the console's member-household pages change beyond storage.members: revoking a binding
code, changing a care household's visit schedule, and its visit history.

A new schedule replaces the old one rather than editing it: the old row ends (so the history
says which rule a past visit followed), its open visit is cancelled with its reminders, and the
new rule's first visit is made at once with reminders of its own. Missed visits stay as they are:
they were escalated already and can still be logged late.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage import reminders
from storage.member_models import BindingCode, CareHousehold, Visit, VisitSchedule
from storage.members import recurrence, visits
from storage.models import Resident

HISTORY_LIMIT = 100


async def revoke_code(session: AsyncSession, *, community_id: int, code_id: int, now: datetime) -> bool:
    """End an unused code now (it then reads as expired); False if the community has no such
    usable code."""
    c = BindingCode
    result = await session.execute(update(c).where(c.id == code_id, c.community_id == community_id,
                                                   c.used_at.is_(None), c.expires_at > now)
                                   .values(expires_at=now).execution_options(synchronize_session=False))
    return bool(result.rowcount)


async def current_schedule(session: AsyncSession, household: CareHousehold) -> VisitSchedule | None:
    return await session.scalar(select(VisitSchedule).where(VisitSchedule.care_household_id == household.id)
                                .order_by(VisitSchedule.id.desc()).limit(1))


async def reschedule(session: AsyncSession, household: CareHousehold, *, spec: str, anchor: date, now: datetime,
                     settings: Settings) -> VisitSchedule:
    """Visit by a new rule from ``anchor``; raises recurrence.RecurrenceError for a rule with no dates."""
    spec = recurrence.validate(spec, anchor)
    old = await current_schedule(session, household)
    await _end(session, household, now)
    schedule = VisitSchedule(
        community_id=household.community_id, care_household_id=household.id, recurrence=spec, anchor=anchor,
        delivery_hour=old.delivery_hour if old else settings.members.visit_delivery_hour,
        quiet_start=old.quiet_start if old else None, quiet_end=old.quiet_end if old else None,
        active=True, created_at=now)
    session.add(schedule)
    await session.flush()
    await visits.open_next(session, schedule, household, after=None, now=now, settings=settings)
    return schedule


async def _end(session: AsyncSession, household: CareHousehold, now: datetime) -> None:
    """The running schedules end; their open visit is cancelled and its reminders stop."""
    await session.execute(update(VisitSchedule).where(VisitSchedule.care_household_id == household.id,
                                                      VisitSchedule.active.is_(True))
                          .values(active=False, ended_at=now).execution_options(synchronize_session=False))
    ids = list(await session.scalars(
        update(Visit).where(Visit.care_household_id == household.id, Visit.status == "open")
        .values(status="cancelled").returning(Visit.id).execution_options(synchronize_session=False)))
    if ids:
        await reminders.cancel(session, community_id=household.community_id,
                               subjects=[visits.subject(i) for i in ids], reason="visit schedule changed")


async def history(session: AsyncSession, household: CareHousehold) -> list[tuple[Visit, str | None]]:
    """The household's visits, latest due first, each with the name of who logged it."""
    query = (select(Visit, Resident.name).outerjoin(Resident, Resident.id == Visit.logged_by_resident_id)
             .where(Visit.care_household_id == household.id)
             .order_by(Visit.due_date.desc(), Visit.id.desc()).limit(HISTORY_LIMIT))
    rows = await session.execute(query)
    return [(visit, name) for visit, name in rows.all()]
