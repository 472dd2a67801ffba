"""Routing down the org chain, with the notices it queues (and, once, sends to the fake WeChat API)."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest
from sqlalchemy import update

from storage.models import Resident
from tests.test_outbox_worker import make_worker
from tests.tickets.conftest import MEDIATION, STAFF, STREET, content, events_of, file_ticket, outbox_rows, \
    ticket_settings


def recipients(rows, notice_kind: str | None = None) -> list[str]:
    return sorted(r.openid for r in rows if notice_kind in (None, r.notice_kind))


async def test_blue_goes_to_the_buildings_member_household_and_the_grid_worker(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock(), phone_consent=True)
    assert (ticket.status, ticket.assignee_team, ticket.assignee_resident_id) == \
        ("assigned", "member_household", world["member"].id)
    assert [(e.action, e.to_status, e.actor_kind) for e in await events_of(db, ticket.id)] == [
        ("created", "received", "resident"), ("transition", "triaged", "system"), ("assign", "assigned", "system")]
    rows = await outbox_rows(db)
    assert recipients(rows) == ["o_liu", "o_zhang"]  # not the reporter: the chat reply tells them
    task = content(rows[0])
    assert task.startswith(f"【新工单】{ticket.number}（蓝色）") and "报修·照明" in task
    assert "地点：1栋2单元" in task and "联系人：reporter 13807100002" in task
    assert "请于11月24日（周二）10:00前联系居民，12月2日（周三）18:00前处理完成" in task
    assert {(r.kind, r.notice_kind, r.status) for r in rows} == {("text", "ticket_task", "pending")}


async def test_the_reporters_phone_stays_private_without_consent(db, world, settings, clock):
    await file_ticket(db, world, settings, clock(), phone="13900000000", phone_consent=False)
    assert all("联系人：reporter 未留电话" in content(r) for r in await outbox_rows(db))


async def test_a_building_without_a_member_household_goes_to_the_grid_worker(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock(), building_id=world.buildings["2栋"])
    assert (ticket.assignee_team, ticket.assignee_resident_id) == ("grid_worker", world["grid_worker"].id)
    assert recipients(await outbox_rows(db)) == ["o_liu"]


async def test_a_member_household_looks_after_linked_buildings_too(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock(), building_id=world.buildings["4栋"])
    assert ticket.assignee_resident_id == world["member"].id
    # 第三网格 has no grid worker: the level above (staff) hears of it instead
    assert recipients(await outbox_rows(db)) == sorted(["o_zhang", *STAFF])


async def test_with_neither_member_household_nor_grid_worker_staff_take_it(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock(), building_id=world.buildings["3栋"],
                               reporter="resident3")
    assert (ticket.status, ticket.assignee_team, ticket.assignee_resident_id) == ("assigned", "staff", None)
    assert recipients(await outbox_rows(db)) == sorted(STAFF)


async def test_yellow_goes_to_staff_and_the_mediation_team(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock(), kind="complaint", category="neighbours",
                               description="楼上邻居天天往楼道堆杂物，说了不听")
    assert (ticket.grade, ticket.assignee_team) == ("yellow", "mediation")  # yellow by category rule
    assert recipients(await outbox_rows(db)) == sorted([*STAFF, *MEDIATION])


async def test_yellow_without_a_mediation_team_falls_back_to_staff(db_url, db, world, clock):
    settings = ticket_settings(db_url, teams={"test": {"staff": STAFF}})
    ticket = await file_ticket(db, world, settings, clock(), grade="yellow")
    assert ticket.assignee_team == "staff"
    assert recipients(await outbox_rows(db)) == sorted(STAFF)


async def test_red_alerts_community_and_street_staff_at_once(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock(), grade="red", category="gas",
                               description="3楼楼道里很大煤气味")
    rows = await outbox_rows(db)
    assert recipients(rows) == sorted([*STAFF, *STREET])
    assert all(r.notice_kind == "ticket_alert" and r.next_attempt_at == clock() for r in rows)
    alert = content(rows[0])
    assert alert.startswith(f"【红色紧急】{ticket.number}") and "请立即处置" in alert
    assert "11月23日（周一）10:30前响应，11月23日（周一）12:00前处理完成" in alert


async def test_with_nobody_to_take_it_the_ticket_waits_triaged(db_url, db, world, clock):
    settings = ticket_settings(db_url, teams={})
    ticket = await file_ticket(db, world, settings, clock(), building_id=world.buildings["3栋"])
    assert (ticket.status, ticket.assignee_team) == ("triaged", None)
    assert await outbox_rows(db) == []


async def test_routing_rules_come_from_config(db_url, db, world, clock):
    settings = ticket_settings(db_url, routing={"blue": {"assign": "grid_worker", "notify": ["staff"]}})
    ticket = await file_ticket(db, world, settings, clock())
    assert (ticket.assignee_team, ticket.assignee_resident_id) == ("grid_worker", world["grid_worker"].id)
    assert recipients(await outbox_rows(db)) == sorted(["o_liu", *STAFF])
    assert settings.tickets.routing["red"].assign == "staff"  # grades not configured keep their default


# ---- all the way to WeChat -------------------------------------------------------------------

@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def test_notices_reach_wechat_through_the_outbox_worker(db_url, db, world, clock, fake_wechat, http):
    settings = ticket_settings(db_url, fake_wechat.base_url)
    async with db.sessions.begin() as session:  # the grid worker last wrote to us three days ago
        await session.execute(update(Resident).where(Resident.id == world["grid_worker"].id)
                              .values(last_inbound_at=clock() - timedelta(days=3)))
    ticket = await file_ticket(db, world, settings, clock())
    assert await make_worker(db, settings, http).drain() == 2

    [to_member] = fake_wechat.sent_to("o_zhang")
    assert to_member["kind"] == "text" and to_member["content"].startswith(f"【新工单】{ticket.number}")
    [to_grid_worker] = fake_wechat.sent_to("o_liu")  # outside the 48-hour window: a template
    assert (to_grid_worker["kind"], to_grid_worker["template_id"]) == ("template", "TPL_TICKET_TASK")
    assert to_grid_worker["data"]["keyword1"]["value"] == ticket.number
    assert to_grid_worker["data"]["first"]["value"] == "新工单待处理"
    assert {r.status for r in await outbox_rows(db)} == {"sent"}


async def test_a_red_alert_reaches_staff_who_never_wrote_to_us(db_url, db, world, clock, fake_wechat, http):
    settings = ticket_settings(db_url, fake_wechat.base_url)
    await file_ticket(db, world, settings, clock(), grade="red", description="电梯困人了")
    assert await make_worker(db, settings, http).drain() == 3
    for openid in ("o_staff_zhou", "o_street_he", "o_staff_wang"):
        [alert] = fake_wechat.sent_to(openid)
        assert alert["content"].startswith("【红色紧急】")
