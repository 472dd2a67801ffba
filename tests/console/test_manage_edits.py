"""Management pages that change what they made: grids renamed and deleted, binding codes revoked,
care households rescheduled with their visit history, staff accounts' roles and scopes."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from storage.member_models import BindingCode, CareHousehold, Reminder, Visit, VisitSchedule
from storage.models import Building, Grid
from storage.staff_models import StaffAccount, StaffAudit, StaffScope
from tests.console.conftest import logged_in, make_ticket


async def test_rename_a_grid(console, place, db):
    await logged_in(console, "staff")
    grid = place.grids["第一网格"]
    assert (await console.post(f"/console/manage/grids/{grid}/rename", {"name": "东区网格"})).status == 303
    taken = await console.post(f"/console/manage/grids/{grid}/rename", {"name": "第二网格"})
    assert taken.status == 409 and "已经存在" in await taken.text()
    empty = await console.post(f"/console/manage/grids/{grid}/rename", {"name": " "})
    assert empty.status == 400
    async with db.sessions() as session:
        assert (await session.get(Grid, grid)).name == "东区网格"
    assert "东区网格" in await console.page("/console/manage/grids")


async def test_delete_only_an_unused_grid(console, place, db, services):
    await logged_in(console, "staff")
    full = await console.post(f"/console/manage/grids/{place.grids['第二网格']}/delete")
    assert full.status == 409 and "还有楼栋" in await full.text()
    worked = await console.post(f"/console/manage/grids/{place.grids['第一网格']}/delete")
    assert worked.status == 409  # 1–4栋 are in it (and grid1 works it)
    await console.post("/console/manage/grids", {"name": "空网格"})
    async with db.sessions() as session:
        empty = await session.scalar(select(Grid).where(Grid.name == "空网格"))
    assert (await console.post(f"/console/manage/grids/{empty.id}/delete")).status == 303
    async with db.sessions() as session:
        assert await session.get(Grid, empty.id) is None
        audit = await session.scalar(select(StaffAudit).where(StaffAudit.action == "grid.delete"))
    assert audit.detail == {"name": "空网格"}
    assert "<td data-label=\"对象\">网格（已删除）</td>" in await _audit_page(console, "admin")


async def test_a_grid_with_tickets_or_staff_stays(console, place, db, services):
    await logged_in(console, "staff")
    await console.post("/console/manage/grids", {"name": "第三网格"})
    async with db.sessions() as session:
        grid = await session.scalar(select(Grid).where(Grid.name == "第三网格"))
    await console.post("/console/manage/buildings", {"name": "9栋", "grid_id": str(grid.id)})
    async with db.sessions() as session:
        place.buildings["9栋"] = await session.scalar(select(Building.id).where(Building.name == "9栋"))
    ticket = await make_ticket(services, place, building="9栋", description="9栋的问题")
    assert ticket.grid_id == grid.id
    await console.post("/console/manage/buildings", {"name": "9栋", "grid_id": ""})  # the building moves out
    kept = await console.post(f"/console/manage/grids/{grid.id}/delete")
    assert kept.status == 409 and "已有工单记录" in await kept.text()


async def _audit_page(console, username: str) -> str:
    await logged_in(console, username)
    return await console.page("/console/manage/audit")


async def test_grids_of_another_community_are_not_found(console, place, db):
    await logged_in(console, "staff")
    other = place.grids["隔壁网格"]
    assert (await console.post(f"/console/manage/grids/{other}/rename", {"name": "抢来的"})).status == 404
    assert (await console.post(f"/console/manage/grids/{other}/delete")).status == 404
    async with db.sessions() as session:
        assert (await session.get(Grid, other)).name == "隔壁网格"


async def issue_code(console) -> str:
    response = await console.post("/console/manage/codes", {"role": "grid_worker", "label": "新网格员"})
    return re.search(r"新的绑定码：<b>(\d{6})</b>", await response.text()).group(1)


async def test_revoke_a_binding_code(console, place, db, app_client, settings):
    from tests.wechat_client import WeChatClient

    await logged_in(console, "staff")
    code = await issue_code(console)
    async with db.sessions() as session:
        row = await session.scalar(select(BindingCode))
    assert (await console.post(f"/console/manage/codes/{row.id}/revoke")).status == 303
    assert code not in await console.page("/console/manage/codes")
    assert (await console.post(f"/console/manage/codes/{row.id}/revoke")).status == 404  # already gone
    reply = await WeChatClient(app_client, settings.accounts[0]).resident("o_wang").say(f"绑定 {code}")
    assert "过期" in reply
    async with db.sessions() as session:
        assert (await session.get(BindingCode, row.id)).used_at is None


async def test_a_code_of_another_community_cannot_be_revoked(console, new_console, place, db):
    other = await logged_in(await new_console(), "otherstaff")
    await issue_code(other)
    async with db.sessions() as session:
        row = await session.scalar(select(BindingCode))
    await logged_in(console, "staff")
    assert (await console.post(f"/console/manage/codes/{row.id}/revoke")).status == 404
    async with db.sessions() as session:
        assert (await session.get(BindingCode, row.id)).expires_at == row.expires_at


async def add_household(console, place, **changes) -> CareHousehold:
    form = {"name": "王奶奶", "category": "elderly_alone", "building_id": str(place.buildings["3栋"]), "unit": "1",
            "room": "101", "recurrence": "monthly", "anchor": "2026-11-25", "member_id": str(place.residents["o_mh"]),
            **changes}
    response = await console.post("/console/manage/care", form)
    assert response.status == 303, await response.text()
    async with console_db(console).sessions() as session:
        return await session.scalar(select(CareHousehold).order_by(CareHousehold.id.desc()))


def console_db(console):
    from bot import keys

    return console.client.server.app[keys.SERVICES].db


async def test_change_a_households_schedule(console, place, db):
    await logged_in(console, "staff")
    household = await add_household(console, place)
    page = await console.page(f"/console/manage/care/{household.id}")
    assert "王奶奶" in page and "每月，从 2026-11-25 起" in page and "2026-11-25" in page and "待走访" in page
    changed = await console.post(f"/console/manage/care/{household.id}/schedule",
                                 {"recurrence": "weekly", "anchor": "2026-11-30"})
    assert changed.status == 303
    async with db.sessions() as session:
        schedules = list(await session.scalars(select(VisitSchedule).order_by(VisitSchedule.id)))
        visits = [(v.due_date, v.status) for v in await session.scalars(select(Visit).order_by(Visit.id))]
        reminders = {(r.subject, r.status) for r in await session.scalars(select(Reminder))}
    assert [(s.recurrence, s.active) for s in schedules] == [("monthly", False), ("weekly", True)]
    assert visits == [(date(2026, 11, 25), "cancelled"), (date(2026, 11, 30), "open")]
    first, second = (f"visit:{n}" for n in (1, 2))
    assert {status for subject, status in reminders if subject == first} == {"cancelled"}
    assert {status for subject, status in reminders if subject == second} == {"pending"}
    page = await console.page(f"/console/manage/care/{household.id}")
    assert "每周，从 2026-11-30 起" in page and "已取消" in page
    assert "每周" in await console.page("/console/manage/care")


def flash(html: str) -> str:
    """The error message a page shows."""
    return re.search(r'<p class="flash err" role="alert">(.*?)</p>', html).group(1)


async def test_schedule_refusals_are_the_consoles_own_chinese(console, place, db):
    await logged_in(console, "staff")
    household = await add_household(console, place)
    for form, words in (({"recurrence": "FREQ=HOURLY", "anchor": "2026-11-30"}, "请选择走访频率"),
                        ({"recurrence": "weekly", "anchor": "下周一"}, "第一次走访日期")):
        response = await console.post(f"/console/manage/care/{household.id}/schedule", form)
        assert response.status == 400 and words in flash(await response.text()), form
    bad_category = await console.post("/console/manage/care", {"name": "x", "category": "vip", "recurrence": "weekly",
                                                               "anchor": "2026-11-30"})
    message = flash(await bad_category.text())
    assert bad_category.status == 400 and "请选择重点户类别" in message and "elderly_alone" not in message
    not_member = await console.post("/console/manage/care", {"name": "x", "category": "dibao", "recurrence": "weekly",
                                                             "anchor": "2026-11-30",
                                                             "member_id": str(place.residents["o_zhang"])})
    message = flash(await not_member.text())
    assert not_member.status == 400 and "张建国还不是党员中心户" in message and "members grant" not in message
    rrule = await console.post("/console/manage/care", {"name": "x", "category": "dibao", "recurrence": "FREQ=DAILY",
                                                        "anchor": "2026-11-30"})
    message = flash(await rrule.text())
    assert rrule.status == 400 and "请选择走访频率" in message and "RRULE" not in message


async def test_visit_history_shows_logged_visits(console, place, db, app_client, settings, clock):
    from tests.wechat_client import WeChatClient

    await logged_in(console, "staff")
    household = await add_household(console, place, anchor="2026-11-23")
    await WeChatClient(app_client, settings.accounts[0]).resident("o_mh").say("走访 3栋1单元101 老人身体不错")
    page = await console.page(f"/console/manage/care/{household.id}")
    assert "已走访" in page and "老人身体不错" in page and "李秀英" in page


async def test_staff_account_role_and_scope(console, new_console, place, db):
    await logged_in(console, "admin")
    street = place.staff["street"]
    page = await console.page(f"/console/manage/staff/{street}")
    assert 'name="community_ids" value="%d" checked' % place.other_community_id in page
    to_grid = await console.post(f"/console/manage/staff/{street}/role", {"role": "grid_worker"})
    assert to_grid.status == 400 and "至少要负责一个网格" in await to_grid.text()
    foreign = await console.post(f"/console/manage/staff/{street}/role",
                                 {"role": "grid_worker", "grid_ids": str(place.grids["隔壁网格"])})
    assert foreign.status == 400 and "不属于这个社区" in await foreign.text()
    moved = await console.post(f"/console/manage/staff/{street}/role",
                               {"role": "grid_worker", "grid_ids": str(place.grids["第二网格"])})
    assert moved.status == 303
    async with db.sessions() as session:
        account = await session.get(StaffAccount, street)
        scopes = [(s.community_id, s.grid_id) for s in await session.scalars(
            select(StaffScope).where(StaffScope.staff_id == street))]
    assert account.role == "grid_worker" and scopes == [(place.community_id, place.grids["第二网格"])]
    browser = await logged_in(await new_console(), "street")
    await browser.page("/console/threads")  # grid workers answer threads now
    await browser.page("/console/manage", status=403)
    back = await console.post(f"/console/manage/staff/{street}/role",
                              {"role": "street_staff", "community_ids": str(place.other_community_id)})
    assert back.status == 303
    await browser.page("/console/threads", status=403)  # at the next request, not the next login
    assert "隔壁社区" in await browser.page("/console/tickets")
    audit = await console.page("/console/manage/audit")
    assert "修改工作人员角色与范围" in audit and "工作人员 street" in audit


async def test_role_changes_that_are_refused(console, new_console, place, db):
    await logged_in(console, "admin")
    own = await console.post(f"/console/manage/staff/{place.staff['admin']}/role", {"role": "community_staff"})
    assert own.status == 400 and "不能修改自己的角色" in await own.text()
    bad = await console.post(f"/console/manage/staff/{place.staff['staff']}/role", {"role": "superuser"})
    assert bad.status == 400 and "角色只能是" in await bad.text()
    foreign = await console.post(f"/console/manage/staff/{place.staff['otherstaff']}/role", {"role": "admin"})
    assert foreign.status == 404  # not of this community
    await console.page(f"/console/manage/staff/{place.staff['otherstaff']}", status=404)
    nobody = await console.post(f"/console/manage/staff/{place.staff['staff']}/role",
                                {"role": "street_staff", "community_ids": "999"})
    assert nobody.status == 400 and "所选社区不存在" in await nobody.text()
    staff = await logged_in(await new_console(), "staff")
    assert (await staff.post(f"/console/manage/staff/{place.staff['grid1']}/role", {"role": "admin"})).status == 403
    await staff.page(f"/console/manage/staff/{place.staff['grid1']}", status=403)
    async with db.sessions() as session:
        assert (await session.get(StaffAccount, place.staff["grid1"])).role == "grid_worker"
        assert (await session.get(StaffAccount, place.staff["otherstaff"])).role == "community_staff"
