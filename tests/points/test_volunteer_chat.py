"""Volunteer activities in chat: the numbered list, sign-up with capacity and a waitlist,
cancellation with promotion (told through the outbox), and 我的活动."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.texts import points as t
from storage.points import activities
from storage.points_models import Activity, ActivitySignup


async def _statuses(db, activity_id) -> dict[int, str]:
    async with db.sessions() as session:
        rows = await session.execute(select(ActivitySignup.resident_id, ActivitySignup.status)
                                     .where(ActivitySignup.activity_id == activity_id))
        return dict(rows.all())


async def test_upcoming_activities_are_listed_with_their_numbers(wechat, staff, clock):
    await staff.activity("已结束的活动", starts_in=timedelta(days=-2))
    later = await staff.activity("关爱老人", starts_in=timedelta(days=5), capacity=8)
    sooner = await staff.activity("清洁家园", starts_in=timedelta(days=1), capacity=2)
    reply = await wechat.resident("o_list").say("志愿活动")
    assert "已结束的活动" not in reply
    assert reply.index("清洁家园") < reply.index("关爱老人")
    assert f"{sooner.number}. 清洁家园\n   11月24日（周二）10:00-12:00，社区广场\n   20 积分，名额 0/2" in reply
    assert f"{later.number}. 关爱老人" in reply and f"例如“报名 {sooner.number}”" in reply


async def test_no_activities(wechat):
    assert await wechat.resident("o_empty").say("志愿活动") == t.NO_ACTIVITIES


async def test_sign_up_confirms_and_a_second_time_says_so(wechat, staff, db):
    activity = await staff.activity("清洁家园", capacity=2)
    chat = wechat.resident("o_vol")
    reply = await chat.say(f"报名 {activity.number}")
    assert reply.startswith("报名成功！\n清洁家园") and f"取消报名 {activity.number}" in reply
    assert "已经报名" in await chat.say(f"报名{activity.number}")
    assert (await staff.get(Activity, activity.id)).confirmed == 1


async def test_full_activity_puts_residents_on_a_waitlist_in_order(wechat, staff, db):
    activity = await staff.activity("关爱老人", capacity=1)
    n = activity.number
    assert "报名成功" in await wechat.resident("o_1").say(f"报名 {n}")
    assert await wechat.resident("o_2").say(f"报名 {n}") == t.WAITLISTED.format(title="关爱老人", position=1)
    assert await wechat.resident("o_3").say(f"报名 {n}") == t.WAITLISTED.format(title="关爱老人", position=2)
    assert await wechat.resident("o_3").say(f"报名 {n}") == t.ALREADY_WAITLISTED.format(title="关爱老人", position=2)
    assert "（已满，可候补）" in await wechat.resident("o_4").say("志愿活动")


async def test_cancelling_promotes_the_first_waiting_who_is_told_by_message(wechat, staff, db, fake_wechat,
                                                                            drain_outbox):
    activity = await staff.activity("关爱老人", capacity=1)
    n = activity.number
    for openid in ("o_seat", "o_wait1", "o_wait2"):
        await wechat.resident(openid).say(f"报名 {n}")
    assert await wechat.resident("o_seat").say(f"取消报名 {n}") == t.UNSIGNED.format(title="关爱老人")
    await drain_outbox()
    told = [m["content"] for m in fake_wechat.sent_to("o_wait1")]
    assert len(told) == 1 and told[0].startswith("好消息") and "关爱老人" in told[0]
    assert fake_wechat.sent_to("o_wait2") == []
    assert "已报名" in await wechat.resident("o_wait1").say("我的活动")
    assert "候补第 1 位" in await wechat.resident("o_wait2").say("我的活动")
    assert (await staff.get(Activity, activity.id)).confirmed == 1
    # cancelling from the waitlist frees no seat and promotes no one
    await wechat.resident("o_wait2").say(f"取消报名 {n}")
    await drain_outbox()
    assert len(fake_wechat.sent_to("o_wait1")) == 1 and fake_wechat.sent_to("o_wait2") == []


async def test_cancel_needs_a_sign_up_and_must_come_before_the_start(wechat, staff, clock):
    activity = await staff.activity("清洁家园", starts_in=timedelta(hours=3))
    n = activity.number
    chat = wechat.resident("o_c")
    assert await chat.say(f"取消报名 {n}") == t.UNSIGN_NOT_SIGNED.format(title="清洁家园")
    await chat.say(f"报名 {n}")
    clock.advance(hours=3)
    assert await chat.say(f"取消报名 {n}") == t.UNSIGN_STARTED.format(title="清洁家园")
    assert await chat.say("取消报名") == t.UNSIGN_WHICH


async def test_signing_up_again_after_cancelling_goes_to_the_back(wechat, staff, db):
    activity = await staff.activity("清洁家园", capacity=1)
    n = activity.number
    await wechat.resident("o_a").say(f"报名 {n}")
    await wechat.resident("o_a").say(f"取消报名 {n}")
    await wechat.resident("o_b").say(f"报名 {n}")
    assert await wechat.resident("o_a").say(f"报名 {n}") == t.WAITLISTED.format(title="清洁家园", position=1)


async def test_sign_up_closes_at_the_deadline(wechat, staff, clock):
    activity = await staff.activity("反诈宣传", starts_in=timedelta(days=2),
                                    signup_deadline=clock() + timedelta(days=1))
    clock.advance(days=1)
    assert await wechat.resident("o_late").say(f"报名 {activity.number}") == t.SIGNUP_CLOSED.format(title="反诈宣传")
    assert "（报名已截止）" in await wechat.resident("o_late").say("志愿活动")


async def test_unknown_number_and_missing_number(wechat, staff):
    await staff.activity("清洁家园")
    chat = wechat.resident("o_x")
    assert await chat.say("报名 99") == t.ACTIVITY_NOT_FOUND.format(number=99)
    assert (await chat.say("我想报名参加活动")).startswith("近期志愿活动")


async def test_my_activities(wechat, staff):
    first = await staff.activity("清洁家园", capacity=1)
    second = await staff.activity("关爱老人", starts_in=timedelta(days=3))
    await wechat.resident("o_other").say(f"报名 {first.number}")
    chat = wechat.resident("o_mine")
    assert await chat.say("我的活动") == t.MINE_EMPTY
    await chat.say(f"报名 {first.number}")
    await chat.say(f"报名 {second.number}")
    reply = await chat.say("我的活动")
    assert f"{first.number}. 清洁家园：11月25日（周三）10:00，社区广场，候补第 1 位" in reply
    assert f"{second.number}. 关爱老人：11月26日（周四）10:00，社区广场，已报名" in reply


@pytest.mark.parametrize("said", ["我要报名第{n}个活动", "我想报名{n}号活动", "报名第{cn}个", "报名{cn}", "報名 {n}",
                                  "我想参加{n}号活动"])
async def test_natural_wording_with_a_number_signs_up(wechat, staff, said):
    activity = await staff.activity("清洁家园")
    assert activity.number == 1
    reply = await wechat.resident("o_free").say(said.format(n=activity.number, cn="一"))
    assert reply.startswith("报名成功！\n清洁家园")


@pytest.mark.parametrize("said", ["我不去了，取消报名{n}", "我不想参加{n}号活动了", "取消第{cn}个活动的报名", "取消報名 {n}"])
async def test_natural_wording_with_a_number_cancels(wechat, staff, db, said):
    activity = await staff.activity("清洁家园")
    chat = wechat.resident("o_quit")
    await chat.say(f"报名 {activity.number}")
    assert await chat.say(said.format(n=activity.number, cn="一")) == t.UNSIGNED.format(title="清洁家园")
    assert await _statuses(db, activity.id) == {await staff.resident("o_quit"): "cancelled"}


async def test_natural_wording_without_a_number(wechat, staff):
    await staff.activity("清洁家园")
    chat = wechat.resident("o_vague")
    assert (await chat.say("我想报名一下志愿活动")).startswith("近期志愿活动")  # 一下 is not a number
    assert await chat.say("我不想参加活动了") == t.UNSIGN_WHICH


async def test_no_withdrawing_after_checking_in(wechat, staff, clock, services, db):
    activity = await staff.activity("清洁家园", starts_in=timedelta(hours=1))
    chat = wechat.resident("o_done")
    await chat.say(f"报名 {activity.number}")
    clock.set(activity.starts_at)
    assert "签到成功" in await chat.say(f"签到 {activity.checkin_code}")
    assert await chat.say(f"取消报名 {activity.number}") == t.UNSIGN_CHECKED_IN.format(title="清洁家园")
    resident_id = await staff.resident("o_done")
    async with services.db.sessions.begin() as session:  # and storage refuses too, whatever the clock says
        row = await session.get(Activity, activity.id)
        assert await activities.cancel(session, activity=row, resident_id=resident_id,
                                       now=activity.starts_at - timedelta(hours=1)) == (False, [])
    assert (await staff.balance("o_done")).balance == 20
    assert await _statuses(db, activity.id) == {resident_id: "confirmed"}
