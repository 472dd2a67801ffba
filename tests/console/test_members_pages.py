"""Binding codes and care households (重点户) in the console, through storage.members."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.member_models import BindingCode, CareHousehold, Visit
from tests.console.conftest import logged_in


async def test_issue_a_binding_code_and_redeem_it_in_chat(console, place, db, app_client, settings):
    from tests.wechat_client import WeChatClient

    await logged_in(console, "staff")
    response = await console.client.post("/console/manage/codes", allow_redirects=False, data=[
        ("_csrf", console.csrf), ("role", "member_household"), ("label", "王志强"),
        ("building_ids", str(place.buildings["6栋"])), ("building_ids", str(place.buildings["隔壁1栋"]))])
    page = await response.text()
    assert response.status == 200
    code = re.search(r"新的绑定码：<b>(\d{6})</b>", page).group(1)
    async with db.sessions() as session:
        row = await session.scalar(select(BindingCode))
    assert row.building_ids == [place.buildings["6栋"]]  # another community's building is dropped
    assert code in await console.page("/console/manage/codes")
    await WeChatClient(app_client, settings.accounts[0]).resident("o_wang").say(f"绑定 {code}")
    async with db.sessions() as session:
        assert (await session.scalar(select(BindingCode))).used_at is not None
    assert code not in await console.page("/console/manage/codes")
    bad = await console.post("/console/manage/codes", {"role": "admin"})
    assert bad.status == 400


async def test_register_assign_and_remove_a_care_household(console, place, db):
    await logged_in(console, "staff")
    form = {"name": "王奶奶", "category": "elderly_alone", "building_id": str(place.buildings["3栋"]), "unit": "1",
            "room": "101", "recurrence": "monthly", "anchor": "2026-11-25", "member_id": str(place.residents["o_mh"])}
    assert (await console.post("/console/manage/care", form)).status == 303
    page = await console.page("/console/manage/care")
    assert "王奶奶" in page and "独居老人" in page and "2026-11-25" in page
    not_member = await console.post("/console/manage/care", {**form, "name": "李爷爷",
                                                             "member_id": str(place.residents["o_zhang"])})
    assert not_member.status == 400 and "还不是党员中心户" in await not_member.text()
    bad_date = await console.post("/console/manage/care", {**form, "anchor": "明天"})
    assert bad_date.status == 400
    async with db.sessions() as session:
        household = await session.scalar(select(CareHousehold))
    assert (await console.post(f"/console/manage/care/{household.id}/member", {"member_id": ""})).status == 303
    async with db.sessions() as session:
        assert (await session.get(CareHousehold, household.id)).member_resident_id is None
    assert (await console.post(f"/console/manage/care/{household.id}/remove")).status == 303
    async with db.sessions() as session:
        assert not (await session.get(CareHousehold, household.id)).active
        assert {v.status for v in await session.scalars(select(Visit))} == {"cancelled"}
    assert "王奶奶" not in await console.page("/console/manage/care")


async def test_members_pages_need_manage_rights(console, place):
    await logged_in(console, "grid1")
    for path in ("/console/manage/codes", "/console/manage/care"):
        assert (await console.get(path)).status == 403
    assert (await console.post("/console/manage/codes", {"role": "grid_worker"})).status == 403
