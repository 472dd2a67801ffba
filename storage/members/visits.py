"""Follow-up visits (约访 / 走访): the next due visit of each schedule, its reminders, the log.

Only the next visit of a schedule is a row. It is made when the schedule starts and whenever the
previous one is logged or missed, as the first occurrence after it that is not in the past (an
outage or a long-missed visit never piles up a backlog of overdue visits). Making it is
idempotent (unique schedule + due date), and so are its reminders (unique keys):

- visit_due   to the member household at the delivery hour of the due day; it says "今天", so it
  expires at the end of that day (after downtime it is never sent for an old date);
- visit_again to the member household at due + ``second_reminder_days``, unless logged by then;
  it expires when the visit escalates;
- visit_escalation to the grid worker(s) of the building and community staff at due +
  ``escalation_days``: the visit is then 'missed' (it can still be logged late), its member
  reminders still unsent are cancelled, and the next one is made.

All of them respect the schedule's quiet hours (default [reminders] quiet_start / quiet_end).
A visit handed to another member household and back reaches the first one again: its cancelled
reminders are revived (reminders.schedule(revive=True)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.texts import members as t
from storage import reminders
from storage.member_models import CareHousehold, Visit, VisitSchedule
from storage.members import contacts, recurrence
from storage.models import Building, Resident
from storage.reminders import LOCAL, Due, QuietHours
from storage.sql import is_postgres, upsert_insert

VISIT_DUE, VISIT_AGAIN, VISIT_ESCALATION = "visit_due", "visit_again", "visit_escalation"
NOTICE_KIND, ALERT_KIND = "member_reminder", "member_alert"  # outbox notice kinds (templates per kind)
UNLOGGED = ("open", "missed")
EARLY_DAYS = 3  # a visit made up to this many days before its due day counts for it


def subject(visit_id: int) -> str:
    return f"visit:{visit_id}"


def local_today(now: datetime) -> date:
    return now.astimezone(LOCAL).date()


def day_text(day: date) -> str:
    return t.DAY.format(month=day.month, day=day.day, weekday=t.WEEKDAYS[day.weekday()])


def quiet_of(schedule: VisitSchedule, settings: Settings) -> QuietHours | None:
    config = settings.reminders
    return QuietHours.parse(schedule.quiet_start or config.quiet_start, schedule.quiet_end or config.quiet_end)


def due_moment(schedule: VisitSchedule, day: date, settings: Settings) -> datetime:
    """The delivery hour of the due day, moved out of quiet hours."""
    moment = datetime.combine(day, time(schedule.delivery_hour), LOCAL).astimezone(timezone.utc)
    return reminders.hold(moment, quiet_of(schedule, settings))


# ---- describing a household -------------------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    household: str
    category: str
    place: str

    def as_dict(self) -> dict[str, str]:
        return {"household": self.household, "category": self.category, "place": self.place}


async def place_of(session: AsyncSession, household: CareHousehold) -> str:
    building = await session.scalar(select(Building.name).where(Building.id == household.building_id)) \
        if household.building_id is not None else None
    unit = t.PLACE_UNIT.format(unit=household.unit) if household.unit else ""
    return f"{building or ''}{unit}{household.room or ''}" or t.NO_PLACE


async def facts(session: AsyncSession, household: CareHousehold) -> Facts:
    return Facts(household.name, t.CATEGORY_NAMES.get(household.category, household.category),
                 await place_of(session, household))


# ---- making the next visit --------------------------------------------------------------------

async def open_next(session: AsyncSession, schedule: VisitSchedule, household: CareHousehold, *,
                    after: date | None, now: datetime, settings: Settings) -> Visit | None:
    """The schedule's next visit (the first from today when ``after`` is None); None, and the
    schedule ends, when its rule has no more dates."""
    today = local_today(now)
    if after is None:
        day = recurrence.first_on_or_after(schedule.recurrence, schedule.anchor, max(schedule.anchor, today))
    else:
        day = recurrence.next_after(schedule.recurrence, schedule.anchor, after, not_before=today)
    if day is None:
        schedule.active, schedule.ended_at = False, now
        return None
    await session.execute(upsert_insert(session, Visit).values(
        community_id=schedule.community_id, schedule_id=schedule.id, care_household_id=household.id,
        member_resident_id=household.member_resident_id, due_date=day, due_at=due_moment(schedule, day, settings),
        status="open", created_at=now).on_conflict_do_nothing(index_elements=["schedule_id", "due_date"]))
    visit = await session.scalar(select(Visit).where(Visit.schedule_id == schedule.id, Visit.due_date == day))
    await remind_member(session, visit, household, schedule, now=now, settings=settings)
    return visit


async def remind_member(session: AsyncSession, visit: Visit, household: CareHousehold, schedule: VisitSchedule, *,
                        now: datetime, settings: Settings) -> int:
    """Schedule the due-day and second reminders to the household's member household."""
    member = await session.get(Resident, household.member_resident_id) if household.member_resident_id else None
    if member is None or visit.status != "open":
        return 0
    info = (await facts(session, household)).as_dict()
    account = await contacts.account_name(session, visit.community_id, settings)
    again_at = visit.due_at + timedelta(days=settings.members.second_reminder_days)
    due = day_text(visit.due_date)

    def reminder(kind: str, at: datetime, text: str, expires: datetime) -> Due:
        content = text.format(**info, due=due)
        return Due(visit.community_id, kind, subject(visit.id), account, member.openid, at,
                   key=f"{subject(visit.id)}:{kind}:{member.id}", resident_id=member.id,
                   quiet=quiet_of(schedule, settings), expires_at=expires,
                   payload={"title": t.TITLE_VISIT, "content": content, "notice_kind": NOTICE_KIND, "time": due})
    second = reminder(VISIT_AGAIN, again_at, t.VISIT_AGAIN, escalation_moment(visit, settings))
    if again_at <= now:  # a visitor assigned late hears only the later reminder, which names the day
        return await reminders.schedule(session, [second], now=now, revive=True)
    first = reminder(VISIT_DUE, visit.due_at, t.VISIT_DUE, end_of_day(visit.due_date))
    return await reminders.schedule(session, [first, second], now=now, revive=True)


def end_of_day(day: date) -> datetime:
    """Local midnight after ``day``: a "今天请走访" reminder is no use later."""
    return datetime.combine(day + timedelta(days=1), time(), LOCAL).astimezone(timezone.utc)


def escalation_moment(visit: Visit, settings: Settings) -> datetime:
    """When an unlogged visit escalates (escalate_overdue's cutoff, seen from the visit)."""
    return visit.due_at + timedelta(days=settings.members.escalation_days)


async def ensure_open(session: AsyncSession, *, community_ids: Iterable[int], now: datetime,
                      settings: Settings) -> int:
    """Every active schedule of an active household has its next visit (a safety net: visits are
    normally made when a household is registered and when the previous one is logged or missed)."""
    has_open = exists().where(Visit.schedule_id == VisitSchedule.id, Visit.status == "open")
    rows = (await session.execute(
        select(VisitSchedule, CareHousehold).join(CareHousehold, CareHousehold.id == VisitSchedule.care_household_id)
        .where(VisitSchedule.community_id.in_(list(community_ids)), VisitSchedule.active.is_(True),
               CareHousehold.active.is_(True), ~has_open)
        .order_by(VisitSchedule.id))).all()
    made = 0
    for schedule, household in rows:
        last = await session.scalar(select(Visit.due_date).where(Visit.schedule_id == schedule.id)
                                    .order_by(Visit.due_date.desc()).limit(1))
        made += await open_next(session, schedule, household, after=last, now=now, settings=settings) is not None
    return made


# ---- logging ----------------------------------------------------------------------------------

async def households_of(session: AsyncSession, member_id: int) -> list[CareHousehold]:
    rows = await session.scalars(select(CareHousehold).where(CareHousehold.member_resident_id == member_id,
                                                             CareHousehold.active.is_(True))
                                 .order_by(CareHousehold.id))
    return list(rows)


async def visit_to_log(session: AsyncSession, household: CareHousehold, *, now: datetime) -> Visit | None:
    """The earliest unlogged visit due by a few days from now (missed ones can be logged late)."""
    horizon = local_today(now) + timedelta(days=EARLY_DAYS)
    return await session.scalar(select(Visit).where(Visit.care_household_id == household.id,
                                                    Visit.status.in_(UNLOGGED), Visit.due_date <= horizon)
                                .order_by(Visit.due_date).limit(1))


async def log_visit(session: AsyncSession, household: CareHousehold, *, by: Resident, note: str, now: datetime,
                    settings: Settings) -> tuple[Visit, Visit | None]:
    """Record a visit: against the due one (then the next is made), or as an extra visit today
    when none is due. Returns (the visit logged, the next due visit)."""
    visit = await visit_to_log(session, household, now=now)
    if visit is None:
        visit = await _extra_visit(session, household, now=now)
    was_open = visit.status == "open"
    visit.status, visit.logged_at, visit.logged_by_resident_id = "logged", now, by.id
    visit.note = f"{visit.note}\n{note}" if visit.note else note
    await reminders.cancel(session, community_id=visit.community_id, subjects=[subject(visit.id)],
                           reason="visit logged")
    schedule = await session.get(VisitSchedule, visit.schedule_id)
    if was_open and schedule.active:
        await open_next(session, schedule, household, after=visit.due_date, now=now, settings=settings)
    await session.flush()
    upcoming = await session.scalar(select(Visit).where(Visit.care_household_id == household.id,
                                                        Visit.status == "open").order_by(Visit.due_date).limit(1))
    return visit, upcoming


async def _extra_visit(session: AsyncSession, household: CareHousehold, *, now: datetime) -> Visit:
    """A visit outside the schedule (nothing due now): today's row of the household's schedule."""
    schedule = await session.scalar(select(VisitSchedule).where(VisitSchedule.care_household_id == household.id)
                                    .order_by(VisitSchedule.active.desc(), VisitSchedule.id.desc()).limit(1))
    today = local_today(now)
    visit = await session.scalar(select(Visit).where(Visit.schedule_id == schedule.id, Visit.due_date == today))
    if visit is None:
        visit = Visit(community_id=household.community_id, schedule_id=schedule.id, care_household_id=household.id,
                      member_resident_id=household.member_resident_id, due_date=today, due_at=now, status="logged",
                      created_at=now)
        session.add(visit)
        await session.flush()
    return visit


# ---- escalation -------------------------------------------------------------------------------

async def escalate_overdue(session: AsyncSession, *, community_ids: Iterable[int], now: datetime, settings: Settings,
                           limit: int = 200) -> int:
    """Open visits past due + escalation days become 'missed': the grid worker(s) and staff are
    reminded and the next visit is made. Guarded, so two schedulers escalate each visit once.

    On PostgreSQL a scheduler waits for visits another one is escalating (FOR UPDATE, not SKIP
    LOCKED; they are few and the transaction short) and then finds them missed: otherwise it
    would go on to write the day's digests (bot/reminder_jobs.py) while that escalation is not
    committed, and send a grid worker "nothing to say" about a visit missed that very minute."""
    cutoff = now - timedelta(days=settings.members.escalation_days)
    pick = (select(Visit.id).where(Visit.community_id.in_(list(community_ids)), Visit.status == "open",
                                   Visit.due_at <= cutoff).order_by(Visit.id).limit(limit))
    if is_postgres(session):
        pick = pick.with_for_update()
    ids = list(await session.scalars(update(Visit).where(Visit.id.in_(pick.scalar_subquery()), Visit.status == "open")
                                     .values(status="missed", escalated_at=now).returning(Visit.id)
                                     .execution_options(synchronize_session=False)))
    for visit_id in ids:
        visit = await session.get(Visit, visit_id, populate_existing=True)
        household = await session.get(CareHousehold, visit.care_household_id)
        schedule = await session.get(VisitSchedule, visit.schedule_id)
        await reminders.cancel(session, community_id=visit.community_id, subjects=[subject(visit.id)],
                               kinds=[VISIT_DUE, VISIT_AGAIN], reason="visit escalated")
        await _alert_escalation(session, visit, household, schedule, now=now, settings=settings)
        if schedule.active and household.active:
            await open_next(session, schedule, household, after=visit.due_date, now=now, settings=settings)
    return len(ids)


async def _alert_escalation(session: AsyncSession, visit: Visit, household: CareHousehold, schedule: VisitSchedule, *,
                            now: datetime, settings: Settings) -> int:
    member = await session.get(Resident, household.member_resident_id) if household.member_resident_id else None
    people = contacts.unique([*await contacts.grid_workers_of_building(session, visit.community_id,
                                                                        household.building_id),
                              *await contacts.staff(session, visit.community_id, settings)])
    account = await contacts.account_name(session, visit.community_id, settings)
    info = (await facts(session, household)).as_dict()
    due = day_text(visit.due_date)
    content = t.VISIT_ESCALATION.format(**info, due=due, member=(member.name if member else None) or t.NO_MEMBER)
    payload = {"title": t.TITLE_ESCALATION, "content": content, "notice_kind": ALERT_KIND, "time": due}
    return await reminders.schedule(session, [
        Due(visit.community_id, VISIT_ESCALATION, subject(visit.id), account, person.openid, now,
            key=f"{subject(visit.id)}:{VISIT_ESCALATION}:{person.openid}", resident_id=person.resident_id,
            quiet=quiet_of(schedule, settings), payload=payload)
        for person in people], now=now)


# ---- what is due, for "我的任务" and the digest -------------------------------------------------

async def due_for_member(session: AsyncSession, member_id: int, *, now: datetime) -> list[tuple[Visit, CareHousehold]]:
    """Unlogged visits due by today of the households this member household visits."""
    rows = await session.execute(
        select(Visit, CareHousehold).join(CareHousehold, CareHousehold.id == Visit.care_household_id)
        .where(CareHousehold.member_resident_id == member_id, CareHousehold.active.is_(True),
               Visit.status.in_(UNLOGGED), Visit.due_date <= local_today(now))
        .order_by(Visit.due_date, Visit.id))
    return [tuple(row) for row in rows.all()]


async def missed_in_grids(session: AsyncSession, community_id: int,
                          grid_ids: set[int]) -> list[tuple[Visit, CareHousehold]]:
    """Escalated, still unlogged visits of households in these grids (for grid workers)."""
    if not grid_ids:
        return []
    rows = await session.execute(
        select(Visit, CareHousehold).join(CareHousehold, CareHousehold.id == Visit.care_household_id)
        .join(Building, and_(Building.id == CareHousehold.building_id, Building.grid_id.in_(list(grid_ids))))
        .where(Visit.community_id == community_id, Visit.status == "missed", CareHousehold.active.is_(True))
        .order_by(Visit.due_date, Visit.id))
    return [tuple(row) for row in rows.all()]
