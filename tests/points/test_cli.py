"""`linli points …`: the staff operations the console will call later, from the command line."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.texts.points import LOCAL
from storage import communities
from storage.db import Database
from storage.models import OutboxMessage, Resident
from storage.points import resources
from storage.points_models import PointsAudit


@pytest.fixture
def config(tmp_path, db_url) -> str:
    path = tmp_path / "linli.toml"
    path.write_text(f"""
[database]
url = "{db_url}"

[[communities]]
slug = "test"
name = "测试社区"

[[accounts]]
name = "test"
community = "test"
appid = "wxlinlitest000001"
token = "linlitesttoken"
encryption = "plain"
""", encoding="utf-8")
    return str(path)


def linli(config: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["points", *args, "--config", config])
    assert result.exit_code == 0, result.output
    return result.output


def linli_fails(config: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["points", *args, "--config", config])
    assert result.exit_code != 0
    return result.output


def _in_db(db_url: str, work):
    async def run():
        db = Database(db_url)
        try:
            async with db.sessions.begin() as session:
                return await work(session)
        finally:
            await db.dispose()
    return asyncio.run(run())


def _resident(db_url: str, openid: str, name: str = "黄伟") -> None:
    async def add(session):
        community_id = (await communities.ensure(session, [("test", "测试社区")]))["test"]
        session.add(Resident(community_id=community_id, openid=openid, name=name, roles=[], subscribed=True))
    _in_db(db_url, add)


def test_activities_are_created_listed_and_marked(config, db_url):
    created = linli(config, "activity", "add", "--title", "清洁家园", "--place", "社区广场", "--start", "2030-05-04 09:00",
                    "--end", "2030-05-04 11:30", "--capacity", "20", "--tags", "环境, 助老", "--by", "王主任")
    code = re.search(r"签到码 (\d{4})", created).group(1)
    assert "已创建活动 1：清洁家园，5月4日（周六）09:00-11:30，25 积分，名额 20" in created  # 2.5 h × 10
    assert f"签到码 {code}" in linli(config, "activity", "list")
    _resident(db_url, "o_hw")
    assert "只能在活动开始后" in linli_fails(config, "activity", "checkin", "1", "--openid", "o_hw", "--by", "王主任")
    started = (datetime.now(LOCAL) - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    ends = (datetime.now(LOCAL) + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    linli(config, "activity", "add", "--title", "捡垃圾", "--place", "河边", "--start", started, "--end", ends,
          "--capacity", "5", "--points", "25", "--by", "王主任")
    assert "已签到，发放 25 积分" in linli(config, "activity", "checkin", "2", "--openid", "o_hw", "--by", "王主任")
    assert "已经签到过" in linli(config, "activity", "checkin", "2", "--openid", "o_hw", "--by", "王主任")
    shown = linli(config, "activity", "show", "2")
    assert "黄伟  o_hw  walk_in  已签到" in shown and "（王主任）" in shown
    assert "没有这位居民" in linli_fails(config, "activity", "checkin", "2", "--openid", "o_nobody", "--by", "王主任")
    assert "没有编号为 9 的活动" in linli_fails(config, "activity", "show", "9")


def test_items_orders_adjustments_and_the_audit_trail(config, db_url):
    assert "已上架 1. 洗衣液：30 分，库存 5" in linli(config, "item", "add", "--name", "洗衣液", "--cost", "30",
                                                   "--stock", "5", "--by", "王主任")
    assert "洗衣液 库存现为 8" in linli(config, "item", "restock", "1", "3", "--by", "王主任")
    assert "1. 洗衣液  30分  库存 8" in linli(config, "item", "list")
    _resident(db_url, "o_hw")
    assert "已调整 +50 分，余额 50 分" in linli(config, "adjust", "--openid", "o_hw", "--delta", "50",
                                               "--reason", "调解邻里纠纷", "--by", "王主任")
    assert "余额不足" in linli_fails(config, "adjust", "--openid", "o_hw", "--delta", "-60", "--reason", "扣回",
                                    "--by", "王主任")
    assert "没有待领取的订单" in linli_fails(config, "order", "pickup", "000000", "--by", "王主任")
    assert "账目一致" in linli(config, "check")

    async def audit(session):
        return [(row.actor, row.action) for row in await session.scalars(select(PointsAudit).order_by(PointsAudit.id))]
    assert _in_db(db_url, audit) == [("王主任", "item_add"), ("王主任", "item_restock"), ("王主任", "adjust")]


def test_an_order_is_handed_over_against_its_pickup_code(config, db_url):
    from storage.points import mall

    linli(config, "item", "add", "--name", "理发券", "--cost", "20", "--stock", "2", "--by", "王主任")
    _resident(db_url, "o_hw")
    linli(config, "adjust", "--openid", "o_hw", "--delta", "20", "--reason", "补发", "--by", "王主任")

    async def redeem(session):
        resident = await session.scalar(select(Resident).where(Resident.openid == "o_hw"))
        item = await mall.find_item(session, resident.community_id, number=1)
        return (await mall.redeem(session, community_id=resident.community_id, resident_id=resident.id,
                                  item_id=item.id, source_key="test", now=item.created_at)).pickup_code
    code = _in_db(db_url, redeem)
    assert "已领取：理发券" in linli(config, "order", "pickup", code, "--by", "王主任")
    assert "没有待领取的订单" in linli_fails(config, "order", "pickup", code, "--by", "王主任")


def test_staff_search_the_resources_list(config, db_url):
    _resident(db_url, "o_hw")

    async def register(session):
        resident = await session.scalar(select(Resident).where(Resident.openid == "o_hw"))
        await resources.register(session, community_id=resident.community_id, resident_id=resident.id,
                                 skills=["修电器"], availability=["周末"], said="我会修电器，周末有空",
                                 now=resident.created_at)
    _in_db(db_url, register)
    assert "黄伟" in linli(config, "resources", "电器", "周末") and "会：修电器" in linli(config, "resources")
    assert "没有找到" in linli(config, "resources", "理发")


def test_more_places_take_residents_off_the_waitlist(config, db_url):
    from storage.points import activities

    linli(config, "activity", "add", "--title", "关爱老人", "--place", "服务中心", "--start", "2030-05-04 09:00",
          "--end", "2030-05-04 11:00", "--capacity", "1", "--points", "30", "--by", "王主任")
    for openid in ("o_a", "o_b"):
        _resident(db_url, openid)

    async def sign_up(session):
        activity = await activities.by_number(session, 1, 1)
        for openid in ("o_a", "o_b"):
            resident = await session.scalar(select(Resident).where(Resident.openid == openid))
            await activities.sign_up(session, activity=activity, resident_id=resident.id, now=activity.created_at)
    _in_db(db_url, sign_up)
    assert "名额改为 2，候补转正 1 人" in linli(config, "activity", "capacity", "1", "2", "--by", "王主任")

    async def told(session):
        return [(row.openid, row.notice_kind) for row in await session.scalars(select(OutboxMessage))]
    assert _in_db(db_url, told) == [("o_b", "waitlist_promoted")]


def test_cancelling_an_activity_tells_everyone_signed_up(config, db_url):
    from storage.points import activities

    linli(config, "activity", "add", "--title", "关爱老人", "--place", "服务中心", "--start", "2030-05-04 09:00",
          "--end", "2030-05-04 11:00", "--capacity", "1", "--points", "30", "--by", "王主任")
    for openid in ("o_a", "o_b"):
        _resident(db_url, openid)

    async def sign_up(session):
        activity = await activities.by_number(session, 1, 1)
        for openid in ("o_a", "o_b"):
            resident = await session.scalar(select(Resident).where(Resident.openid == openid))
            await activities.sign_up(session, activity=activity, resident_id=resident.id, now=activity.created_at)
    _in_db(db_url, sign_up)
    assert "已取消活动 1：关爱老人，通知 2 位报名的居民" in linli(config, "activity", "cancel", "1", "--reason", "暴雨",
                                                            "--by", "王主任")
    assert "已经取消" in linli_fails(config, "activity", "cancel", "1", "--by", "王主任")

    async def told(session):
        return [(row.openid, row.notice_kind, row.payload["content"]) for row in await session.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id))]
    notices = _in_db(db_url, told)
    assert [(openid, kind) for openid, kind, _ in notices] == [("o_a", "activity_cancelled"), ("o_b", "activity_cancelled")]
    assert all("“关爱老人”" in content and "原因：暴雨。" in content for _, _, content in notices)
