"""Care households (重点户) and their visit schedules, as staff register them.

Removing a household (or changing who visits it) takes effect at once: its unlogged visits are
cancelled (or handed over) and every reminder about them stops.

A delivery hour whose reminder quiet hours would push to the next day (23:00 with quiet hours
22:00–08:00) is refused: the due-day reminder says "今天" and expires with its day. One that
quiet hours only delay within the day (07:00 with quiet hours until 08:30) is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.texts import members as t
from storage import reminders
from storage.member_models import CareHousehold, Visit, VisitSchedule
from storage.members import recurrence, visits
from storage.members.roles import MEMBER, has_role
from storage.models import Resident
from storage.reminders import LOCAL

CATEGORIES = tuple(t.CATEGORY_NAMES)
_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


class CareError(ValueError):
    """A registration staff must correct; the message is for them (Chinese)."""


@dataclass(frozen=True)
class Plan:
    """How a household is to be visited."""

    recurrence: str  # weekly | fortnightly | monthly | RRULE
    anchor: date  # the first visit day
    delivery_hour: int | None = None  # None: [members] visit_delivery_hour
    quiet_start: str | None = None  # None: [reminders] quiet hours
    quiet_end: str | None = None


async def add_household(session: AsyncSession, *, community_id: int, name: str, category: str, plan: Plan,
                        now: datetime, settings: Settings, member: Resident | None = None,
                        building_id: int | None = None, unit: str | None = None, room: str | None = None,
                        phone: str | None = None, note: str | None = None) -> CareHousehold:
    """Register a household with its schedule and make its first visit."""
    if category not in CATEGORIES:
        choices = "、".join(t.CARE_CATEGORY_CHOICE.format(key=k, name=v) for k, v in t.CATEGORY_NAMES.items())
        raise CareError(t.CARE_BAD_CATEGORY.format(choices=choices))
    _check_member(member)
    try:
        spec = recurrence.validate(plan.recurrence, plan.anchor)
    except recurrence.RecurrenceError as exc:
        raise CareError(str(exc)) from None
    _check_delivery(plan, settings)
    household = CareHousehold(community_id=community_id, name=name.strip(), category=category,
                              building_id=building_id, unit=unit, room=room, phone=phone, note=note,
                              member_resident_id=member.id if member else None, active=True, created_at=now)
    session.add(household)
    await session.flush()
    hour = _hour(plan, settings)
    schedule = VisitSchedule(community_id=community_id, care_household_id=household.id, recurrence=spec,
                             anchor=plan.anchor, delivery_hour=hour, quiet_start=plan.quiet_start,
                             quiet_end=plan.quiet_end, active=True, created_at=now)
    session.add(schedule)
    await session.flush()
    await visits.open_next(session, schedule, household, after=None, now=now, settings=settings)
    return household


def _hour(plan: Plan, settings: Settings) -> int:
    return plan.delivery_hour if plan.delivery_hour is not None else settings.members.visit_delivery_hour


def _check_delivery(plan: Plan, settings: Settings) -> None:
    """Well-formed quiet hours, and a delivery hour they do not push into the next day."""
    for clock in (plan.quiet_start, plan.quiet_end):
        if clock is not None and not _CLOCK.match(clock):
            raise CareError(t.CARE_BAD_CLOCK.format(clock=clock))
    hour = _hour(plan, settings)
    if not 0 <= hour <= 23:
        raise CareError(t.CARE_BAD_HOUR)
    start = plan.quiet_start or settings.reminders.quiet_start
    end = plan.quiet_end or settings.reminders.quiet_end
    quiet = reminders.QuietHours.parse(start, end)
    moment = datetime.combine(plan.anchor, time(hour), LOCAL).astimezone(timezone.utc)
    if quiet is not None and reminders.hold(moment, quiet).astimezone(LOCAL).date() != plan.anchor:
        raise CareError(t.CARE_HOUR_IN_QUIET.format(hour=hour, start=start, end=end))


def _check_member(member: Resident | None) -> None:
    if member is not None and not has_role(member, MEMBER):
        raise CareError(t.CARE_NOT_MEMBER.format(name=member.name or member.openid))


async def assign_member(session: AsyncSession, household: CareHousehold, member: Resident | None, *, now: datetime,
                        settings: Settings) -> None:
    """Hand the household to another member household (None: nobody for now); reminders follow."""
    _check_member(member)
    household.member_resident_id = member.id if member else None
    unlogged = list(await session.scalars(select(Visit).where(Visit.care_household_id == household.id,
                                                              Visit.status.in_(visits.UNLOGGED))))
    if unlogged:
        await reminders.cancel(session, community_id=household.community_id,
                               subjects=[visits.subject(v.id) for v in unlogged],
                               kinds=[visits.VISIT_DUE, visits.VISIT_AGAIN], reason="visitor changed")
    for visit in unlogged:
        visit.member_resident_id = household.member_resident_id
        schedule = await session.get(VisitSchedule, visit.schedule_id)
        await visits.remind_member(session, visit, household, schedule, now=now, settings=settings)


async def remove_household(session: AsyncSession, household: CareHousehold, *, now: datetime) -> int:
    """No more visits or reminders for this household; returns how many reminders were stopped."""
    household.active, household.removed_at = False, now
    await session.execute(update(VisitSchedule).where(VisitSchedule.care_household_id == household.id,
                                                      VisitSchedule.active.is_(True))
                          .values(active=False, ended_at=now))
    ids = list(await session.scalars(
        update(Visit).where(Visit.care_household_id == household.id, Visit.status.in_(visits.UNLOGGED))
        .values(status="cancelled").returning(Visit.id).execution_options(synchronize_session=False)))
    if not ids:
        return 0
    return await reminders.cancel(session, community_id=household.community_id,
                                  subjects=[visits.subject(i) for i in ids], reason="care household removed")


async def households(session: AsyncSession, *, community_id: int,
                     include_removed: bool = False) -> list[tuple[CareHousehold, VisitSchedule | None, Visit | None]]:
    """Every household with its (latest) schedule and next unlogged visit, for staff listings."""
    query = select(CareHousehold).where(CareHousehold.community_id == community_id)
    if not include_removed:
        query = query.where(CareHousehold.active.is_(True))
    result = []
    for household in await session.scalars(query.order_by(CareHousehold.id)):
        schedule = await session.scalar(select(VisitSchedule).where(VisitSchedule.care_household_id == household.id)
                                         .order_by(VisitSchedule.id.desc()).limit(1))
        result.append((household, schedule, await next_visit(session, household.id)))
    return result


async def next_visit(session: AsyncSession, household_id: int) -> Visit | None:
    """The earliest visit not logged yet (a missed one before the next due one)."""
    return await session.scalar(select(Visit).where(Visit.care_household_id == household_id,
                                                    Visit.status.in_(visits.UNLOGGED))
                                .order_by(Visit.due_date).limit(1))
