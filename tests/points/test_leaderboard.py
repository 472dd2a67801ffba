"""The monthly leaderboard (亮积分): on the 1st from the configured hour, last month's points,
to everyone who did not reply 退订排行, whose names are also left off the board; once per month."""

from __future__ import annotations

from datetime import datetime

from bot.points_jobs import send_monthly_leaderboard
from bot.texts import points as t
from bot.texts.points import LOCAL


def _local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LOCAL)


async def _neighbourhood(staff) -> None:
    await staff.resident("o_zhang", name="张建国", building="3栋", grid="第一网格")
    await staff.resident("o_li", name="李秀英", building="4栋", grid="第一网格")
    await staff.resident("o_wang", name="王志强", building="9栋", grid="第三网格")
    await staff.resident("o_new", name="赵敏", building="10栋", grid="第三网格")
    await staff.give("o_zhang", 50, at=_local(11, 10, 9))
    await staff.give("o_wang", 40, at=_local(11, 20, 9))
    await staff.give("o_li", 30, at=_local(11, 30, 23, 59))
    await staff.give("o_li", 500, key="october", at=_local(10, 31, 12))  # another month
    await staff.give("o_new", 500, key="december", at=_local(12, 1, 0, 30))  # and this one


async def test_the_board_goes_out_on_the_first_to_those_not_opted_out(wechat, staff, services, clock, fake_wechat,
                                                                       drain_outbox):
    await _neighbourhood(staff)
    assert await wechat.resident("o_wang").say("退订排行") == t.OPTED_OUT
    clock.set(_local(12, 1, 8, 59))
    assert await send_monthly_leaderboard(services) == 0  # before leaderboard_hour
    clock.set(_local(12, 1, 9, 7))
    assert await send_monthly_leaderboard(services) == 3
    clock.set(_local(12, 1, 10, 7))
    assert await send_monthly_leaderboard(services) == 0  # the hourly re-run on the 1st sends nothing twice
    await drain_outbox()

    assert fake_wechat.sent_to("o_wang") == []
    li = [m["content"] for m in fake_wechat.sent_to("o_li")]
    assert li == [t.MONTHLY.format(
        month="2026年11月", size=10, top="1. 3栋 张*国 50 分\n3. 4栋 李*英 30 分",
        grid_part=t.MONTHLY_GRID.format(grid="第一网格", size=10, top="1. 3栋 张*国 50 分\n2. 4栋 李*英 30 分"),
        mine=t.MONTHLY_MINE.format(points=30, rank=3))]
    new = fake_wechat.sent_to("o_new")[0]["content"]
    assert t.MONTHLY_NONE in new and "王*强" not in new and "第三网格前" not in new


async def test_no_board_on_other_days_or_for_an_empty_month(staff, services, clock):
    await staff.resident("o_zhang", name="张建国", building="3栋")
    clock.set(_local(12, 1, 9, 7))
    assert await send_monthly_leaderboard(services) == 0  # nobody earned anything in November
    await staff.give("o_zhang", 10, at=_local(11, 15, 9))
    clock.set(_local(12, 2, 9, 7))
    assert await send_monthly_leaderboard(services) == 0
    clock.set(_local(12, 1, 23, 7))
    assert await send_monthly_leaderboard(services) == 1
