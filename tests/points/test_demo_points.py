"""Demo points data: seeded once however often the demo starts, and alive in chat."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import points_demo
from bot.demo_data import seed
from storage.points_models import Activity, ActivitySignup, MallItem, PointsEntry


async def _counts(db) -> tuple[int, ...]:
    async with db.sessions() as session:
        return tuple([await session.scalar(select(func.count()).select_from(model))
                      for model in (MallItem, Activity, ActivitySignup, PointsEntry)])


async def test_seeding_twice_adds_nothing(db):
    for _ in range(2):
        async with db.sessions.begin() as session:
            await seed(session)
    items, activities, signups, entries = await _counts(db)
    assert items == len(points_demo.ITEMS)
    assert activities == len(points_demo.ACTIVITIES) + 1  # and this month's duty
    assert signups == len(points_demo.DUTY_VOLUNTEERS)
    assert entries == len(points_demo.AWARDS)


async def test_a_newcomer_sees_it_working(wechat, staff, clock):
    for openid in ("o_demo_zhang", "o_demo_li"):
        await staff.resident(openid)
    async with staff.db.sessions.begin() as session:
        await points_demo.seed(session, staff.community_id, now=clock())
    zhang = wechat.resident("o_demo_zhang")
    assert "您现有 40 积分" in await zhang.say("我的积分")
    listing = await zhang.say("志愿活动")
    assert all(spec.title in listing for spec in points_demo.ACTIVITIES) and "红色驿站值守（本月）" in listing
    assert "物业费抵扣券（50元）：200 分" in await zhang.say("积分超市")
    assert "已为您加 10 积分，您现有 50 分" in await zhang.say(f"签到 {points_demo.DUTY_CODE}")
