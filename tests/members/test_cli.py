"""`linli members …` (what staff do until the console has pages for it), `linli scheduler`, and the
scheduler inside `linli serve`."""

from __future__ import annotations

import asyncio
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot import keys, reminder_jobs
from bot.cli import main
from bot.scheduler import build_scheduler, run_standalone
from bot.services import Services
from storage import communities
from storage.db import Database
from storage.member_models import BindingCode, CareHousehold, Reminder, Visit
from storage.models import Community, Resident
from tests.members.conftest import build_place, member_settings


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

[wechat]
base_url = "http://127.0.0.1:9"
""", encoding="utf-8")
    return str(path)


def linli(config: str, *args: str, ok: bool = True) -> str:
    result = CliRunner().invoke(main, ["members", *args, "--config", config])
    assert (result.exit_code == 0) is ok, result.output
    return result.output


def in_db(db_url: str, work):
    async def run():
        db = Database(db_url)
        try:
            async with db.sessions.begin() as session:
                return await work(session)
        finally:
            await db.dispose()
    return asyncio.run(run())


@pytest.fixture
def place(db_url):
    async def build():
        db = Database(db_url)
        try:
            async with db.sessions.begin() as session:
                community_id = (await communities.ensure(session, [("test", "测试社区")]))["test"]
            return await build_place(db, community_id)
        finally:
            await db.dispose()
    return asyncio.run(build())


def test_a_code_is_issued_for_a_role_and_its_buildings(config, db_url, place):
    output = linli(config, "code", "--role", "member_household", "--building", "4栋", "--name", "陈桂兰")
    code = re.search(r"绑定码 (\d{6})", output).group(1)
    assert f"请对方在公众号里发送：绑定 {code}" in output
    row = in_db(db_url, lambda s: s.scalar(select(BindingCode)))
    assert (row.code, row.role, row.building_ids, row.label) == (code, "member_household", [place.buildings["4栋"]],
                                                                 "陈桂兰")
    assert f"未使用的绑定码 {code}" in linli(config, "list")
    assert "没有这些楼栋：9栋" in linli(config, "code", "--role", "member_household", "--building", "9栋", ok=False)


def test_roles_are_granted_listed_and_revoked(config, db_url, place):
    assert "李秀英 已登记为网格员" in linli(config, "grant", "--openid", "o_li", "--role", "grid_worker",
                                        "--grid", "第一网格")
    listing = linli(config, "list")
    assert "张建国 o_member｜党员中心户：3栋、5栋" in listing and "李秀英 o_li｜网格员：第一网格" in listing
    assert "不再是网格员" in linli(config, "revoke", "--openid", "o_li", "--role", "grid_worker")
    assert in_db(db_url, lambda s: s.get(Resident, place.people["o_li"])).roles == []
    assert "找不到 o_nobody" in linli(config, "grant", "--openid", "o_nobody", "--role", "grid_worker", ok=False)


def test_care_households_are_added_listed_reassigned_and_removed(config, db_url, place):
    output = linli(config, "care", "add", "--name", "王奶奶", "--category", "elderly_alone", "--building", "5栋",
                   "--room", "301", "--member", "o_member", "--every", "monthly", "--start", "2030-01-31",
                   "--hour", "10", "--quiet", "21:00-08:00")
    assert output.strip() == "已登记重点户 1：王奶奶（独居老人，5栋301），下次走访 1月31日（周四）"
    assert "1. 王奶奶（独居老人，5栋301）｜走访人：张建国｜周期：monthly｜下次：1月31日（周四）（待走访）" in \
        linli(config, "care", "list")
    assert "已改由王志强走访" in linli(config, "care", "assign", "1", "--member", "o_other")
    reminders = in_db(db_url, lambda s: s.scalars(select(Reminder.openid).where(Reminder.status == "pending")))
    assert set(reminders) == {"o_other"}
    assert "停止了 2 条提醒" in linli(config, "care", "remove", "1")
    assert in_db(db_url, lambda s: s.get(CareHousehold, 1)).active is False
    assert in_db(db_url, lambda s: s.scalar(select(Visit.status))) == "cancelled"
    assert linli(config, "care", "list").strip() == "还没有登记重点户。"
    assert "看不懂周期" in linli(config, "care", "add", "--name", "李爷爷", "--category", "dibao", "--every",
                                "每周", ok=False)


async def test_the_scheduler_runs_the_reminder_tick(db, db_url):
    services = Services(settings=member_settings(db_url), db=db, nlu=None, community_ids={"test": 1})
    jobs = {job.id: job for job in build_scheduler(services, wake_outbox=lambda: None).get_jobs()}
    assert jobs["reminders"].func is reminder_jobs.tick and jobs["reminders"].args == (services,)
    assert jobs["reminders"].trigger.interval.total_seconds() == services.settings.reminders.interval_seconds


async def test_linli_scheduler_starts_on_its_own_and_stops(db_url):
    stop = asyncio.Event()
    stop.set()  # stop as soon as it is up
    await run_standalone(member_settings(db_url), stop=stop)
    db = Database(db_url)
    try:
        async with db.sessions() as session:  # it made sure the configured community exists
            assert list(await session.scalars(select(Community.slug))) == ["test"]
    finally:
        await db.dispose()


def served_apps(monkeypatch, nlu_engine) -> list:
    """`linli serve` up to the point where it would listen: the app it builds is kept instead."""
    apps: list = []
    monkeypatch.setattr("aiohttp.web.run_app", lambda app, **kw: apps.append(app))
    monkeypatch.setattr("bot.logs.setup_logging", lambda level: None)  # leave pytest's logging alone
    monkeypatch.setattr("bot.app._load_nlu", lambda settings: nlu_engine)  # the tests' shared engine
    return apps


async def test_linli_serve_runs_the_scheduler_in_the_server(config, aiohttp_client, monkeypatch, nlu_engine):
    apps = served_apps(monkeypatch, nlu_engine)
    for args in (["serve"], ["serve", "--no-scheduler"]):
        result = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--config", config])
        assert result.exit_code == 0, result.output
    with_jobs, without = apps
    await aiohttp_client(with_jobs)  # starts the app as run_app would (on a loopback test port)
    scheduler = with_jobs[keys.SERVICES].extras["scheduler"]
    assert scheduler.running
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs["reminders"].func is reminder_jobs.tick and jobs["reminders"].args == (with_jobs[keys.SERVICES],)
    await aiohttp_client(without)
    assert "scheduler" not in without[keys.SERVICES].extras
