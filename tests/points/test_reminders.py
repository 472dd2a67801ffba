"""Activity reminders, run by the test on a clock it moves: the day before (from the delivery
hour) and just before the start, to confirmed and subscribed residents only, each exactly once
however often the job runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.points_jobs import send_activity_reminders
from bot.texts.points import LOCAL


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL)


async def test_day_before_and_starting_soon_reminders_go_out_once(wechat, staff, services, clock, fake_wechat,
                                                                    drain_outbox):
    activity = await staff.activity("清洁家园", starts_in=timedelta(days=2), capacity=2)  # Wed 25th 10:00
    for openid in ("o_going", "o_left", "o_waiting"):
        await wechat.resident(openid).say(f"报名 {activity.number}")
    await wechat.resident("o_left").event("unsubscribe")

    clock.set(_at(24, 17, 59))
    assert await send_activity_reminders(services) == 0  # before the delivery hour
    clock.set(_at(24, 18))
    assert await send_activity_reminders(services) == 1
    assert await send_activity_reminders(services) == 0  # a second run sends nothing new
    await drain_outbox()
    day_before = [m["content"] for m in fake_wechat.sent_to("o_going")]
    assert len(day_before) == 1 and "明天 10:00 开始" in day_before[0] and f"取消报名 {activity.number}" in day_before[0]

    clock.set(_at(25, 8, 59))
    assert await send_activity_reminders(services) == 0  # more than an hour ahead
    clock.set(_at(25, 9, 1))
    assert await send_activity_reminders(services) == 1
    clock.advance(minutes=5)
    assert await send_activity_reminders(services) == 0
    await drain_outbox()
    soon = [m["content"] for m in fake_wechat.sent_to("o_going")][1:]
    assert len(soon) == 1 and "将于 10:00 开始" in soon[0]
    assert fake_wechat.sent_to("o_left") == [] and fake_wechat.sent_to("o_waiting") == []


async def test_a_reminder_missed_while_down_is_caught_up_that_evening(wechat, staff, services, clock):
    activity = await staff.activity("关爱老人", starts_in=timedelta(days=1, hours=-2))  # Tue 24th 08:00
    await wechat.resident("o_r").say(f"报名 {activity.number}")
    clock.set(_at(23, 22, 30))  # the scheduler was down from 18:00 until now
    assert await send_activity_reminders(services) == 1
    clock.set(_at(24, 7, 30))
    assert await send_activity_reminders(services) == 1  # and the starting-soon one next morning


async def test_a_moved_activity_is_reminded_again(wechat, staff, services, clock):
    activity = await staff.activity("反诈宣传", starts_in=timedelta(days=1))  # Tue 24th 10:00
    await wechat.resident("o_m").say(f"报名 {activity.number}")
    clock.set(_at(23, 18))
    assert await send_activity_reminders(services) == 1
    async with services.db.sessions.begin() as session:
        from storage.points_models import Activity

        moved = await session.get(Activity, activity.id)
        moved.starts_at, moved.ends_at = moved.starts_at + timedelta(hours=6), moved.ends_at + timedelta(hours=6)
    assert await send_activity_reminders(services) == 1  # the new time is worth a new reminder
