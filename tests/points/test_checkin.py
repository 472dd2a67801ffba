"""签到 <code>: only within the activity's time window, points exactly once — whether the same
message is retried by WeChat, the resident checks in twice, or staff also mark them present."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.texts import points as t
from storage.points import activities
from storage.points_models import Activity, PointsEntry

SECOND = timedelta(seconds=1)


async def _entries(db, reason_like: str = "参加志愿活动%") -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(PointsEntry)
                                    .where(PointsEntry.reason.like(reason_like)))


async def _signed_up(wechat, staff, openid: str, **activity) -> Activity:
    created = await staff.activity("清洁家园", **activity)
    assert "报名成功" in await wechat.resident(openid).say(f"报名 {created.number}")
    return created


async def test_check_in_opens_at_the_start(wechat, staff, clock, db):
    activity = await _signed_up(wechat, staff, "o_early")
    chat = wechat.resident("o_early")
    clock.set(activity.starts_at - SECOND)
    assert await chat.say(f"签到 {activity.checkin_code}") == t.CHECKIN_TOO_EARLY.format(
        title="清洁家园", start=t.moment(activity.starts_at))
    clock.set(activity.starts_at)
    assert await chat.say(f"签到 {activity.checkin_code}") == t.CHECKED_IN.format(title="清洁家园", points=20, balance=20)
    assert await chat.say(f"签到{activity.checkin_code}") == t.CHECKIN_ALREADY.format(title="清洁家园")
    assert (await staff.balance("o_early")).balance == 20
    assert await _entries(db) == 1


async def test_check_in_closes_after_the_end(wechat, staff, clock):
    activity = await _signed_up(wechat, staff, "o_last")
    await wechat.resident("o_late").say(f"报名 {activity.number}")
    clock.set(activity.ends_at)
    assert "签到成功" in await wechat.resident("o_last").say(f"签到 {activity.checkin_code}")
    clock.set(activity.ends_at + SECOND)
    assert await wechat.resident("o_late").say(f"签到 {activity.checkin_code}") == t.CHECKIN_TOO_LATE.format(
        title="清洁家园", end=t.moment(activity.ends_at))
    assert (await staff.balance("o_late")).balance == 0


async def test_wrong_code_and_not_signed_up(wechat, staff, clock):
    activity = await staff.activity("清洁家园")
    clock.set(activity.starts_at + timedelta(minutes=5))
    wrong = "0000" if activity.checkin_code != "0000" else "0001"
    chat = wechat.resident("o_walkin")
    assert await chat.say(f"签到 {wrong}") == t.CHECKIN_UNKNOWN.format(code=wrong)
    assert await chat.say(f"签到 {activity.checkin_code}") == t.CHECKIN_NOT_SIGNED.format(title="清洁家园")
    assert await chat.say("签到") == t.CHECKIN_ASK


async def test_a_waitlisted_resident_cannot_check_in_by_code(wechat, staff, clock):
    activity = await _signed_up(wechat, staff, "o_seated", capacity=1)
    await wechat.resident("o_waiting").say(f"报名 {activity.number}")
    clock.set(activity.starts_at)
    assert "或还在候补" in await wechat.resident("o_waiting").say(f"签到 {activity.checkin_code}")


async def test_the_code_picks_the_activity_that_is_on(wechat, staff, clock, services):
    """Codes are unique among overlapping activities; one reused later still finds the right one."""
    first = await _signed_up(wechat, staff, "o_both", starts_in=timedelta(days=1))
    second = await _signed_up(wechat, staff, "o_both", starts_in=timedelta(days=8))
    async with services.db.sessions.begin() as session:
        (await session.get(Activity, second.id)).checkin_code = first.checkin_code
    clock.set(second.starts_at)
    assert "清洁家园" in await wechat.resident("o_both").say(f"签到 {first.checkin_code}")
    resident_id = await staff.resident("o_both")
    async with services.db.sessions() as session:
        checked = await activities.signup_of(session, second.id, resident_id)
        unchecked = await activities.signup_of(session, first.id, resident_id)
    assert checked.checked_in_at == second.starts_at and unchecked.checked_in_at is None


async def test_a_check_in_retried_by_wechat_awards_once(wechat, staff, clock, db):
    activity = await _signed_up(wechat, staff, "o_retry")
    clock.set(activity.starts_at + timedelta(minutes=1))
    xml = wechat.resident("o_retry").text_xml(f"签到 {activity.checkin_code}")
    deliveries = await asyncio.gather(*(wechat.deliver(xml) for _ in range(3)))  # the same MsgId, three times
    assert all(d.status == 200 for d in deliveries)
    assert "签到成功" in deliveries[0].text
    later = await wechat.deliver(xml)  # and once more after the first answer
    assert later.status == 200 and later.text in (deliveries[0].text, None)
    assert await _entries(db) == 1
    assert (await staff.balance("o_retry")).balance == 20


async def test_staff_marking_after_the_code_adds_nothing(wechat, staff, clock, services, db):
    activity = await _signed_up(wechat, staff, "o_both_ways")
    clock.set(activity.starts_at)
    await wechat.resident("o_both_ways").say(f"签到 {activity.checkin_code}")
    resident_id = await staff.resident("o_both_ways")
    walk_in = await staff.resident("o_walk_in")
    async with services.db.sessions.begin() as session:
        again = await activities.mark_attended(session, activity=activity, resident_id=resident_id, actor="王主任",
                                               now=clock(), grace=timedelta(0))
        walked = await activities.mark_attended(session, activity=activity, resident_id=walk_in, actor="王主任",
                                                now=clock(), grace=timedelta(0))
    assert (again, walked) == (False, True)
    assert (await staff.balance("o_both_ways")).balance == 20 and (await staff.balance("o_walk_in")).balance == 20
    assert await _entries(db) == 2


async def test_an_activity_without_points_thanks_without_a_balance(wechat, staff, clock):
    activity = await _signed_up(wechat, staff, "o_free", points=0)
    clock.set(activity.starts_at)
    assert await wechat.resident("o_free").say(f"签到 {activity.checkin_code}") == t.CHECKED_IN_NO_POINTS.format(
        title="清洁家园")


async def test_staff_mark_attendance_only_from_the_start_until_the_grace_after_the_end(staff, services, clock):
    activity = await staff.activity("清洁家园")
    grace = timedelta(minutes=services.settings.points.attendance_grace_minutes)
    people = [await staff.resident(f"o_mark{n}") for n in range(3)]

    async def mark(resident_id, at):
        async with services.db.sessions.begin() as session:
            row = await session.get(Activity, activity.id)
            return await activities.mark_attended(session, activity=row, resident_id=resident_id, actor="王主任",
                                                  now=at, grace=grace)
    for too_soon_or_late in (activity.starts_at - SECOND, activity.ends_at + grace + SECOND):
        with pytest.raises(activities.OutsideWindow):
            await mark(people[0], too_soon_or_late)
    assert (await staff.balance("o_mark0")).balance == 0
    assert await mark(people[1], activity.starts_at) is True
    assert await mark(people[2], activity.ends_at + grace) is True
    assert [(await staff.balance(f"o_mark{n}")).balance for n in range(3)] == [0, 20, 20]


async def test_a_cancelled_activity_can_be_neither_marked_nor_checked_in(wechat, staff, services, clock):
    activity = await _signed_up(wechat, staff, "o_off")
    async with services.db.sessions.begin() as session:
        await activities.cancel_activity(session, activity_id=activity.id, actor="王主任", now=clock())
    clock.set(activity.starts_at)
    resident_id = await staff.resident("o_off")
    async with services.db.sessions.begin() as session:
        row = await session.get(Activity, activity.id)
        with pytest.raises(activities.NotOpen):
            await activities.mark_attended(session, activity=row, resident_id=resident_id, actor="王主任",
                                           now=clock(), grace=timedelta(hours=1))
    assert await wechat.resident("o_off").say(f"签到 {activity.checkin_code}") == t.CHECKIN_UNKNOWN.format(
        code=activity.checkin_code)


async def test_guessing_codes_is_stopped_after_a_few_wrong_ones(wechat, staff, clock):
    activity = await _signed_up(wechat, staff, "o_guess")
    await wechat.resident("o_honest").say(f"报名 {activity.number}")
    clock.set(activity.starts_at + timedelta(minutes=5))
    chat = wechat.resident("o_guess")
    wrong = [code for code in (f"{n:04d}" for n in range(1000, 1100)) if code != activity.checkin_code]
    for code in wrong[:activities.WRONG_CODES_ALLOWED]:
        assert await chat.say(f"签到 {code}") == t.CHECKIN_UNKNOWN.format(code=code)
        clock.advance(seconds=30)
    locked = t.CHECKIN_LOCKED.format(minutes=int(activities.WRONG_CODE_WINDOW.total_seconds() // 60))
    assert await chat.say(f"签到 {activity.checkin_code}") == locked  # even the right code, for now
    assert (await staff.balance("o_guess")).balance == 0
    assert "签到成功" in await wechat.resident("o_honest").say(f"签到 {activity.checkin_code}")  # per resident
    clock.advance(seconds=activities.WRONG_CODE_WINDOW.total_seconds())  # the first wrong codes have left it
    assert "签到成功" in await chat.say(f"签到 {activity.checkin_code}")
    assert (await staff.balance("o_guess")).balance == 20
