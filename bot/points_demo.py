"""Demo points data: mall items, upcoming activities and a few ledger entries, so a newcomer who
opens the simulator can ask 我的积分, 志愿活动, 积分超市 and see a neighbourhood that is alive.

Seeding is idempotent like the rest of bot/demo_data: items are found by name, activities by
title and start, ledger entries by their source keys. Activities are placed relative to the
coming weekend, so a demo started next week still has something ahead; the service-station duty
(红色驿站值守) spans the current month and uses the check-in code DUTY_CODE, so "签到 2468" works
for the demo residents signed up to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts.points import LOCAL
from storage.models import Resident
from storage.points import activities, leaderboard, ledger, mall
from storage.points_models import Activity, MallItem

STAFF = "演示数据"
DUTY_CODE = "2468"

ITEMS = (  # name, cost, stock
    ("洗衣液", 30, 20),
    ("大米（5斤）", 80, 10),
    ("理发券", 20, 30),
    ("鸡蛋（一盒）", 40, 15),
    ("物业费抵扣券（50元）", 200, 5),
)


@dataclass(frozen=True)
class DemoActivity:
    title: str
    place: str
    day: int  # days after the coming Saturday
    start: time
    hours: float
    capacity: int
    points: int
    tags: tuple[str, ...]
    description: str


ACTIVITIES = (
    DemoActivity("清洁家园·楼道大扫除", "社区广场集合", 0, time(9), 2, 20, 20, ("环境",),
                 "清理楼道堆物和小广告，工具由社区提供。"),
    DemoActivity("关爱独居老人·上门探访", "社区党群服务中心", 1, time(14, 30), 2, 3, 30, ("助老",),
                 "两人一组探访独居老人，陪聊天、量血压、检查用电安全。"),
    DemoActivity("反诈宣传进小区", "3栋楼下", 4, time(19), 1.5, 15, 15, ("宣传",),
                 "发放反诈宣传单，教老人识别电话诈骗。"),
)

# (openid, points, reason, key, days before now)
AWARDS = (
    ("o_demo_zhang", 20, "参加志愿活动：清洁家园", "demo:zhang:clean", 35),
    ("o_demo_zhang", 20, "参与邻里调解", "demo:zhang:mediation", 10),
    ("o_demo_li", 30, "参加志愿活动：关爱独居老人", "demo:li:visit", 33),
    ("o_demo_li", 5, "反映问题经核实", "demo:li:report", 3),
    ("o_demo_wang", 15, "参加志愿活动：反诈宣传", "demo:wang:fraud", 30),
    ("o_demo_chen", 10, "红色驿站值守", "demo:chen:duty", 2),
    ("o_demo_yang", 5, "反映问题经核实", "demo:yang:report", 1),
)
DUTY_VOLUNTEERS = ("o_demo_zhang", "o_demo_li")


async def seed(session: AsyncSession, community_id: int, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    await _items(session, community_id, now)
    saturday = _coming_saturday(now.astimezone(LOCAL).date())
    for spec in ACTIVITIES:
        starts = datetime.combine(saturday + timedelta(days=spec.day), spec.start, LOCAL)
        await _activity(session, community_id, now, spec.title, spec.place, starts,
                        starts + timedelta(hours=spec.hours), capacity=spec.capacity, points=spec.points,
                        tags=list(spec.tags), description=spec.description)
    duty = await _duty(session, community_id, now)
    residents = dict((await session.execute(select(Resident.openid, Resident.id)
                                            .where(Resident.community_id == community_id))).all())
    for openid in DUTY_VOLUNTEERS:
        if openid in residents and await activities.signup_of(session, duty.id, residents[openid]) is None:
            # as if they had signed up the day before the month's duty began
            await activities.sign_up(session, activity=duty, resident_id=residents[openid],
                                     now=duty.signup_deadline - timedelta(days=1))
    for openid, points, reason, key, days in AWARDS:
        if openid in residents:
            await ledger.award(session, community_id=community_id, resident_id=residents[openid], points=points,
                               reason=reason, source_key=key, now=now - timedelta(days=days))


def _coming_saturday(today: date) -> date:
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


async def _items(session: AsyncSession, community_id: int, now: datetime) -> None:
    have = set(await session.scalars(select(MallItem.name).where(MallItem.community_id == community_id)))
    for name, cost, stock in ITEMS:
        if name not in have:
            await mall.add_item(session, community_id=community_id, name=name, cost=cost, stock=stock, actor=STAFF,
                                now=now)


async def _activity(session: AsyncSession, community_id: int, now: datetime, title: str, place: str,
                    starts: datetime, ends: datetime, **details) -> Activity:
    found = await session.scalar(select(Activity).where(Activity.community_id == community_id,
                                                        Activity.title == title, Activity.starts_at == starts))
    if found is not None:
        return found
    return await activities.create(session, community_id=community_id, title=title, place=place, starts_at=starts,
                                   ends_at=ends, actor=STAFF, now=now,
                                   signup_deadline=min(starts, max(now, starts - timedelta(hours=2))), **details)


async def _duty(session: AsyncSession, community_id: int, now: datetime) -> Activity:
    """This month's service-station duty, on now (so check-in works), with the fixed demo code."""
    month_start, month_end = leaderboard.month_of(now, LOCAL)
    starts = month_start + timedelta(hours=8)
    duty = await _activity(session, community_id, now, "红色驿站值守（本月）", "红色驿站（1栋旁）", starts,
                           month_end - timedelta(hours=4), capacity=30, points=10, tags=["值守"],
                           description="每天 8:00-20:00 在红色驿站值守，帮居民代收快递、指路、登记诉求。")
    if duty.checkin_code != DUTY_CODE:
        await session.execute(update(Activity).where(Activity.id == duty.id).values(checkin_code=DUTY_CODE))
        duty.checkin_code = DUTY_CODE
    return duty
