"""Volunteer activities (志愿活动): sign-up with capacity and a waitlist, check-in, reminders due.

Seats are counted on the activity row (``confirmed``) and taken by a conditional UPDATE
(``confirmed < capacity``), so concurrent sign-ups can never overfill an activity; a freed seat
goes to the longest-waiting resident through another pair of conditional UPDATEs, so two
cancellations at once cannot promote the same person twice. Points are granted on check-in
through the ledger with one source key per (activity, resident): exactly once, however the
check-in arrives (the resident's code, staff marking, a retried message). Staff may mark someone
present only while the activity is on or shortly after (a grace period), and a resident who has
checked in can no longer withdraw, so points are never granted for an activity that was left.
Four-digit codes can be guessed, so wrong codes are counted per resident and, past a limit,
refused for a while.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from enum import Enum

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import points as texts
from storage.models import Resident
from storage.points import audit, ledger
from storage.points_models import Activity, ActivitySignup, CheckinFailure
from storage.sql import is_postgres

OPEN, CANCELLED = "open", "cancelled"
CONFIRMED, WAITLISTED, WALK_IN = "confirmed", "waitlisted", "walk_in"  # and CANCELLED
ACTIVE = (CONFIRMED, WAITLISTED)

WRONG_CODES_ALLOWED = 5  # wrong check-in codes a resident may send …
WRONG_CODE_WINDOW = timedelta(minutes=30)  # … within this long, before check-in is refused for a while


class NotOpen(ValueError):
    """The activity was already cancelled."""


class OutsideWindow(ValueError):
    """Staff tried to mark attendance before the start or after the end plus the grace period."""


# ---- staff ------------------------------------------------------------------------------------

async def create(session: AsyncSession, *, community_id: int, title: str, place: str, starts_at: datetime,
                 ends_at: datetime, capacity: int, actor: str, now: datetime, points: int | None = None,
                 per_hour: int = 0, signup_deadline: datetime | None = None, tags: list[str] | None = None,
                 description: str = "") -> Activity:
    """Points default to the activity's hours × the per-hour rule; the sign-up deadline to its start."""
    if ends_at <= starts_at or capacity < 1:
        raise ValueError("an activity must end after it starts and have at least one place")
    deadline = signup_deadline or starts_at
    if deadline > starts_at:
        raise ValueError("the sign-up deadline must not be after the start")
    if points is None:
        points = round((ends_at - starts_at).total_seconds() / 3600 * per_hour)
    number = (await session.scalar(select(func.coalesce(func.max(Activity.number), 0))
                                   .where(Activity.community_id == community_id))) + 1
    activity = Activity(community_id=community_id, number=number, title=title, description=description, place=place,
                        starts_at=starts_at, ends_at=ends_at, signup_deadline=deadline, capacity=capacity,
                        confirmed=0, points=points, tags=list(tags or []), status=OPEN, created_by=actor,
                        created_at=now, checkin_code=await _checkin_code(session, community_id, starts_at, ends_at))
    session.add(activity)
    await session.flush()
    await audit.record(session, community_id=community_id, actor=actor, action="activity_create", now=now,
                       activity_id=activity.id, title=title, points=points, capacity=capacity)
    return activity


async def _checkin_code(session: AsyncSession, community_id: int, starts_at: datetime, ends_at: datetime) -> str:
    """Four digits, different from every activity whose time overlaps (the code picks the activity)."""
    taken = set(await session.scalars(select(Activity.checkin_code).where(
        Activity.community_id == community_id, Activity.starts_at < ends_at, Activity.ends_at > starts_at)))
    while True:
        code = f"{secrets.randbelow(9000) + 1000}"
        if code not in taken:
            return code


async def set_capacity(session: AsyncSession, *, activity_id: int, capacity: int, actor: str,
                       now: datetime) -> list[Promotion]:
    """More places take people off the waitlist; fewer than are already taken is refused."""
    changed = (await session.execute(
        update(Activity).where(Activity.id == activity_id, Activity.confirmed <= capacity)
        .values(capacity=capacity).returning(Activity.community_id)
        .execution_options(synchronize_session=False))).scalar()
    if changed is None:
        raise ValueError("more residents are already confirmed than the new capacity")
    await audit.record(session, community_id=changed, actor=actor, action="activity_capacity", now=now,
                       activity_id=activity_id, capacity=capacity)
    return await fill_seats(session, activity_id, now)


async def cancel_activity(session: AsyncSession, *, activity_id: int, actor: str, now: datetime,
                          reason: str = "") -> list[tuple[ActivitySignup, Resident]]:
    """Staff call an activity off: it leaves the lists, reminders and check-in at once. Returns the
    confirmed and waitlisted residents, whom the caller tells (bot.points_jobs.queue_cancellation)
    in the same transaction. Sign-ups keep their status, as the record of who had signed up."""
    community_id = (await session.execute(
        update(Activity).where(Activity.id == activity_id, Activity.status == OPEN).values(status=CANCELLED)
        .returning(Activity.community_id).execution_options(synchronize_session=False))).scalar()
    if community_id is None:
        raise NotOpen(activity_id)
    await audit.record(session, community_id=community_id, actor=actor, action="activity_cancel", now=now,
                       reason=reason or None, activity_id=activity_id)
    rows = await session.execute(select(ActivitySignup, Resident).join(Resident, Resident.id == ActivitySignup.resident_id)
                                 .where(ActivitySignup.activity_id == activity_id, ActivitySignup.status.in_(ACTIVE))
                                 .order_by(ActivitySignup.status, ActivitySignup.queued_at, ActivitySignup.id))
    return list(rows.all())


# ---- finding ----------------------------------------------------------------------------------

async def upcoming(session: AsyncSession, community_id: int, now: datetime, limit: int = 10) -> list[Activity]:
    """Open activities that have not ended yet, soonest first."""
    rows = await session.scalars(select(Activity).where(Activity.community_id == community_id,
                                                        Activity.status == OPEN, Activity.ends_at > now)
                                 .order_by(Activity.starts_at, Activity.number).limit(limit))
    return list(rows.all())


async def by_number(session: AsyncSession, community_id: int, number: int) -> Activity | None:
    return await session.scalar(select(Activity).where(Activity.community_id == community_id,
                                                       Activity.number == number))


async def signup_of(session: AsyncSession, activity_id: int, resident_id: int) -> ActivitySignup | None:
    return await session.scalar(select(ActivitySignup).where(ActivitySignup.activity_id == activity_id,
                                                             ActivitySignup.resident_id == resident_id))


async def waitlist_position(session: AsyncSession, signup: ActivitySignup) -> int:
    ahead = await session.scalar(select(func.count()).select_from(ActivitySignup).where(
        ActivitySignup.activity_id == signup.activity_id, ActivitySignup.status == WAITLISTED,
        or_(ActivitySignup.queued_at < signup.queued_at,
            and_(ActivitySignup.queued_at == signup.queued_at, ActivitySignup.id < signup.id))))
    return ahead + 1


@dataclass(frozen=True, slots=True)
class Mine:
    activity: Activity
    signup: ActivitySignup
    position: int | None  # on the waitlist


async def mine(session: AsyncSession, resident_id: int, now: datetime) -> list[Mine]:
    """The resident's sign-ups for activities that have not ended, soonest first."""
    rows = await session.execute(select(Activity, ActivitySignup)
                                 .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
                                 .where(ActivitySignup.resident_id == resident_id,
                                        ActivitySignup.status.in_(ACTIVE), Activity.status == OPEN,
                                        Activity.ends_at > now)
                                 .order_by(Activity.starts_at))
    result = []
    for activity, signup in rows.all():
        position = await waitlist_position(session, signup) if signup.status == WAITLISTED else None
        result.append(Mine(activity, signup, position))
    return result


async def signups(session: AsyncSession, activity_id: int) -> list[tuple[ActivitySignup, Resident]]:
    """Everyone on an activity, for staff: confirmed and walk-ins first, then the waitlist in order."""
    rows = await session.execute(select(ActivitySignup, Resident).join(Resident, Resident.id == ActivitySignup.resident_id)
                                 .where(ActivitySignup.activity_id == activity_id)
                                 .order_by(ActivitySignup.status, ActivitySignup.queued_at, ActivitySignup.id))
    return list(rows.all())


# ---- signing up and cancelling ----------------------------------------------------------------

class Outcome(str, Enum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    ALREADY_CONFIRMED = "already_confirmed"
    ALREADY_WAITLISTED = "already_waitlisted"
    CLOSED = "closed"  # cancelled by staff, started, or past the sign-up deadline


async def sign_up(session: AsyncSession, *, activity: Activity, resident_id: int, now: datetime) -> Outcome:
    if activity.status != OPEN or now >= activity.signup_deadline or now >= activity.starts_at:
        return Outcome.CLOSED
    existing = await signup_of(session, activity.id, resident_id)
    if existing is not None and existing.status == CONFIRMED:
        return Outcome.ALREADY_CONFIRMED
    if existing is not None and existing.status == WAITLISTED:
        return Outcome.ALREADY_WAITLISTED
    seated = await _take_seat(session, activity.id)
    status = CONFIRMED if seated else WAITLISTED
    if existing is None:
        session.add(ActivitySignup(community_id=activity.community_id, activity_id=activity.id,
                                   resident_id=resident_id, status=status, queued_at=now))
    else:  # signed up again after cancelling (or walked in before): back of the queue
        existing.status, existing.queued_at, existing.cancelled_at = status, now, None
    await session.flush()
    return Outcome.CONFIRMED if seated else Outcome.WAITLISTED


async def _take_seat(session: AsyncSession, activity_id: int) -> bool:
    result = await session.execute(update(Activity).where(Activity.id == activity_id,
                                                          Activity.confirmed < Activity.capacity)
                                   .values(confirmed=Activity.confirmed + 1)
                                   .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def _free_seat(session: AsyncSession, activity_id: int) -> None:
    await session.execute(update(Activity).where(Activity.id == activity_id)
                          .values(confirmed=Activity.confirmed - 1).execution_options(synchronize_session=False))


@dataclass(frozen=True, slots=True)
class Promotion:
    """A waitlisted resident who got a seat (to be told through the outbox)."""

    signup_id: int
    resident_id: int
    promoted_at: datetime


async def cancel(session: AsyncSession, *, activity: Activity, resident_id: int,
                 now: datetime) -> tuple[bool, list[Promotion]]:
    """Withdraw before the start and before checking in; a freed seat goes to the waitlist.
    Returns (cancelled, promoted)."""
    existing = await signup_of(session, activity.id, resident_id)
    if (existing is None or existing.status not in ACTIVE or existing.checked_in_at is not None
            or now >= activity.starts_at):
        return False, []
    was = existing.status
    result = await session.execute(update(ActivitySignup).where(ActivitySignup.id == existing.id,
                                                                ActivitySignup.status == was,
                                                                ActivitySignup.checked_in_at.is_(None))
                                   .values(status=CANCELLED, cancelled_at=now)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False, []
    await session.refresh(existing)
    if was != CONFIRMED:
        return True, []
    await _free_seat(session, activity.id)
    return True, await fill_seats(session, activity.id, now)


async def fill_seats(session: AsyncSession, activity_id: int, now: datetime) -> list[Promotion]:
    """Give free seats to the waitlist, longest waiting first (none once the activity has started)."""
    started = await session.scalar(select(Activity.starts_at <= now).where(Activity.id == activity_id))
    promoted: list[Promotion] = []
    while not started:
        candidate = await _next_waiting(session, activity_id)
        if candidate is None or not await _take_seat(session, activity_id):
            break
        moved = (await session.execute(
            update(ActivitySignup).where(ActivitySignup.id == candidate, ActivitySignup.status == WAITLISTED)
            .values(status=CONFIRMED, promoted_at=now).returning(ActivitySignup.resident_id)
            .execution_options(synchronize_session=False))).scalar()
        if moved is None:  # someone else promoted or cancelled them meanwhile
            await _free_seat(session, activity_id)
            continue
        promoted.append(Promotion(candidate, moved, now))
    return promoted


async def _next_waiting(session: AsyncSession, activity_id: int) -> int | None:
    query = (select(ActivitySignup.id).where(ActivitySignup.activity_id == activity_id,
                                             ActivitySignup.status == WAITLISTED)
             .order_by(ActivitySignup.queued_at, ActivitySignup.id).limit(1))
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return await session.scalar(query)


# ---- check-in ---------------------------------------------------------------------------------

class CheckIn(str, Enum):
    DONE = "done"
    ALREADY = "already"
    NOT_SIGNED_UP = "not_signed_up"
    TOO_EARLY = "too_early"
    TOO_LATE = "too_late"
    UNKNOWN_CODE = "unknown_code"
    LOCKED = "locked"  # too many wrong codes lately


@dataclass(frozen=True, slots=True)
class CheckInResult:
    outcome: CheckIn
    activity: Activity | None = None


async def check_in(session: AsyncSession, *, community_id: int, resident_id: int, code: str,
                   now: datetime) -> CheckInResult:
    """A resident's own check-in with the activity's code, within [start, end].

    A code that opens nothing for this resident (unknown, or another activity's) counts as wrong;
    after WRONG_CODES_ALLOWED of them within WRONG_CODE_WINDOW every code is refused (LOCKED) until
    the oldest falls out of the window, so the 9000 codes cannot be tried within an activity."""
    if await _wrong_codes(session, resident_id, now) >= WRONG_CODES_ALLOWED:
        return CheckInResult(CheckIn.LOCKED)
    activity = await _activity_for_code(session, community_id, code, now)
    if activity is None:
        await _note_wrong_code(session, community_id, resident_id, now)
        return CheckInResult(CheckIn.UNKNOWN_CODE)
    signup = await signup_of(session, activity.id, resident_id)
    if signup is None or (signup.status != CONFIRMED and signup.checked_in_at is None):
        await _note_wrong_code(session, community_id, resident_id, now)
        return CheckInResult(CheckIn.NOT_SIGNED_UP, activity)
    if now < activity.starts_at:
        return CheckInResult(CheckIn.TOO_EARLY, activity)
    if now > activity.ends_at:
        return CheckInResult(CheckIn.TOO_LATE, activity)
    if signup.checked_in_at is not None:
        return CheckInResult(CheckIn.ALREADY, activity)
    done = await _mark(session, activity, signup, by="self", now=now)
    return CheckInResult(CheckIn.DONE if done else CheckIn.ALREADY, activity)


async def _wrong_codes(session: AsyncSession, resident_id: int, now: datetime) -> int:
    return await session.scalar(select(func.count()).select_from(CheckinFailure).where(
        CheckinFailure.resident_id == resident_id, CheckinFailure.at > now - WRONG_CODE_WINDOW))


async def _note_wrong_code(session: AsyncSession, community_id: int, resident_id: int, now: datetime) -> None:
    """Count a wrong code; the resident's rows that have left the window are dropped meanwhile."""
    await session.execute(delete(CheckinFailure).where(CheckinFailure.resident_id == resident_id,
                                                       CheckinFailure.at <= now - WRONG_CODE_WINDOW))
    session.add(CheckinFailure(community_id=community_id, resident_id=resident_id, at=now))
    await session.flush()


async def _activity_for_code(session: AsyncSession, community_id: int, code: str, now: datetime) -> Activity | None:
    """The activity with this code that is on now, else the nearest one in time."""
    rows = list((await session.scalars(select(Activity).where(Activity.community_id == community_id,
                                                              Activity.checkin_code == code,
                                                              Activity.status == OPEN))).all())
    if not rows:
        return None

    def distance(activity: Activity) -> timedelta:
        if activity.starts_at <= now <= activity.ends_at:
            return timedelta(0)
        return min(abs(activity.starts_at - now), abs(now - activity.ends_at))
    return min(rows, key=distance)


async def mark_attended(session: AsyncSession, *, activity: Activity, resident_id: int, actor: str,
                        now: datetime, grace: timedelta) -> bool:
    """Staff mark someone present (signed up or not); points once. False if already checked in.

    Only from the start until the end plus ``grace`` (``[points] attendance_grace_minutes``):
    before the start nobody has attended yet (and could still withdraw), long after it the
    record is not one staff saw. Outside that, OutsideWindow."""
    if activity.status != OPEN:
        raise NotOpen(activity.id)
    if not activity.starts_at <= now <= activity.ends_at + grace:
        raise OutsideWindow(activity.id)
    signup = await signup_of(session, activity.id, resident_id)
    if signup is None:
        signup = ActivitySignup(community_id=activity.community_id, activity_id=activity.id, resident_id=resident_id,
                                status=WALK_IN, queued_at=now)
        session.add(signup)
        await session.flush()
    done = await _mark(session, activity, signup, by=actor, now=now)
    if done:
        await audit.record(session, community_id=activity.community_id, actor=actor, action="checkin_mark",
                           now=now, activity_id=activity.id, resident_id=resident_id)
    return done


async def _mark(session: AsyncSession, activity: Activity, signup: ActivitySignup, *, by: str,
                now: datetime) -> bool:
    result = await session.execute(update(ActivitySignup).where(ActivitySignup.id == signup.id,
                                                                ActivitySignup.checked_in_at.is_(None))
                                   .values(checked_in_at=now, checked_in_by=by)
                                   .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    await session.refresh(signup)
    if activity.points > 0:
        await ledger.award(session, community_id=activity.community_id, resident_id=signup.resident_id,
                           points=activity.points, reason=texts.REASON_ATTEND.format(title=activity.title),
                           source_key=f"activity:{activity.id}:attend:{signup.resident_id}", now=now)
    return True


# ---- reminders --------------------------------------------------------------------------------

DAY_BEFORE, SOON = "day_before", "soon"


@dataclass(frozen=True, slots=True)
class DueReminder:
    kind: str
    activity: Activity
    signup_id: int
    resident: Resident

    @property
    def idempotency_key(self) -> str:
        """One reminder of each kind per sign-up and start time (a moved activity is reminded anew)."""
        return f"activity-reminder:{self.kind}:{self.signup_id}:{int(self.activity.starts_at.timestamp())}"


async def reminders_due(session: AsyncSession, *, now: datetime, local: tzinfo, reminder_hour: int,
                        lead: timedelta) -> list[DueReminder]:
    """Confirmed, subscribed residents of activities starting tomorrow (once the local clock has
    reached reminder_hour) or within ``lead`` from now."""
    conditions = [(SOON, and_(Activity.starts_at > now, Activity.starts_at <= now + lead))]
    if now.astimezone(local).hour >= reminder_hour:
        tomorrow = datetime.combine(now.astimezone(local).date() + timedelta(days=1), time(0), local)
        conditions.append((DAY_BEFORE, and_(Activity.starts_at >= tomorrow,
                                            Activity.starts_at < tomorrow + timedelta(days=1))))
    due = []
    for kind, starting in conditions:
        rows = await session.execute(
            select(Activity, ActivitySignup.id, Resident)
            .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
            .join(Resident, Resident.id == ActivitySignup.resident_id)
            .where(Activity.status == OPEN, starting, ActivitySignup.status == CONFIRMED, Resident.subscribed)
            .order_by(Activity.starts_at, ActivitySignup.id))
        due.extend(DueReminder(kind, activity, signup_id, resident) for activity, signup_id, resident in rows.all())
    return due
