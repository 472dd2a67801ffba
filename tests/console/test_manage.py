"""Management pages: residents and roles, grids and buildings, FAQ, canned replies, staff accounts,
the audit log — and who may use them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Building, FaqEntry, Grid, Resident
from storage.staff_models import CannedReply, StaffAccount, StaffAudit
from storage.ticket_models import GridWorker, MemberHouseholdBuilding
from tests.console.conftest import logged_in

MANAGE_PAGES = ("/console/manage", "/console/manage/residents", "/console/manage/grids", "/console/manage/faq",
                "/console/manage/canned", "/console/manage/points", "/console/manage/activities",
                "/console/manage/templates")
ADMIN_PAGES = ("/console/manage/staff", "/console/manage/audit")


@pytest.mark.parametrize("username", ["grid1", "street"])
async def test_management_is_refused_to_grid_workers_and_street_staff(console, place, username, db):
    await logged_in(console, username)
    for path in MANAGE_PAGES + ADMIN_PAGES:
        response = await console.get(path)
        assert response.status == 403, path
        assert "您没有权限" in await response.text()
    writes = [("/console/manage/grids", {"name": "新网格"}), ("/console/manage/faq", {"question": "q", "answer": "a"}),
              ("/console/manage/canned", {"title": "t", "body": "b"}),
              (f"/console/manage/residents/{place.residents['o_zhang']}", {"name": "改名"}),
              ("/console/manage/staff", {"username": "x", "password": "long-enough-1", "role": "admin"}),
              ("/console/manage/points/adjust", {"who": "张建国", "delta": "100", "reason": "x"}),
              ("/console/manage/mall", {"name": "x", "cost": "1", "stock": "1"})]
    for path, form in writes:
        assert (await console.post(path, form)).status == 403, path
    async with db.sessions() as session:
        assert (await session.get(Resident, place.residents["o_zhang"])).name == "张建国"
        assert await session.scalar(select(Grid).where(Grid.name == "新网格")) is None


async def test_community_staff_manages_but_not_accounts(console, place):
    await logged_in(console, "staff")
    for path in MANAGE_PAGES:
        await console.page(path)
    for path in ADMIN_PAGES:
        await console.page(path, status=403)


async def test_resident_roles_and_their_buildings(console, place, db):
    await logged_in(console, "staff")
    resident_id = place.residents["o_zhang"]
    page = await console.page(f"/console/manage/residents/{resident_id}")
    assert "张建国" in page
    response = await console.client.post(
        f"/console/manage/residents/{resident_id}", allow_redirects=False,
        data=[("_csrf", console.csrf), ("name", "张建国"), ("phone", "13807100009"),
              ("building_id", str(place.buildings["3栋"])), ("unit", "2"), ("room", "502"),
              ("roles", "member_household"), ("cared", str(place.buildings["4栋"])),
              ("cared", str(place.buildings["隔壁1栋"]))])  # another community's building is ignored
    assert response.status == 303
    async with db.sessions() as session:
        resident = await session.get(Resident, resident_id)
        links = list(await session.scalars(select(MemberHouseholdBuilding.building_id)
                                           .where(MemberHouseholdBuilding.resident_id == resident_id)))
    assert resident.roles == ["member_household"] and resident.phone == "13807100009"
    assert links == [place.buildings["4栋"]]
    listing = await console.page("/console/manage/residents?role=member_household")
    assert "张建国" in listing and "王志强" not in listing
    # the role taken away: its links go too
    await console.client.post(f"/console/manage/residents/{resident_id}", allow_redirects=False,
                              data=[("_csrf", console.csrf), ("name", "张建国"), ("roles", "grid_worker"),
                                    ("worked", str(place.grids["第二网格"]))])
    async with db.sessions() as session:
        resident = await session.get(Resident, resident_id)
        assert resident.roles == ["grid_worker"]
        assert list(await session.scalars(select(MemberHouseholdBuilding))) == []
        assert [g.grid_id for g in await session.scalars(select(GridWorker))] == [place.grids["第二网格"]]
    bad = await console.post(f"/console/manage/residents/{resident_id}", {"phone": "abc"})
    assert bad.status == 400 and "电话号码" in await bad.text()


async def test_other_communitys_resident_is_not_found(console, place, db):
    async with db.sessions.begin() as session:
        far = Resident(community_id=place.other_community_id, openid="o_far", name="远方")
        session.add(far)
    await logged_in(console, "staff")
    await console.page(f"/console/manage/residents/{far.id}", status=404)
    assert (await console.post(f"/console/manage/residents/{far.id}", {"name": "x"})).status == 404


async def test_grids_and_buildings(console, place, db):
    await logged_in(console, "staff")
    assert (await console.post("/console/manage/grids", {"name": "第三网格"})).status == 303
    again = await console.post("/console/manage/grids", {"name": "第三网格"})
    assert again.status == 409 and "已经存在" in await again.text()
    async with db.sessions() as session:
        grid = await session.scalar(select(Grid).where(Grid.name == "第三网格"))
    assert (await console.post("/console/manage/buildings", {"name": "9栋", "grid_id": str(grid.id)})).status == 303
    assert (await console.post("/console/manage/buildings", {"name": "3栋", "grid_id": str(grid.id)})).status == 303
    foreign = await console.post("/console/manage/buildings", {"name": "10栋", "grid_id": str(place.grids["隔壁网格"])})
    assert foreign.status == 400
    async with db.sessions() as session:
        moved = {b.name: b.grid_id for b in await session.scalars(select(Building).where(Building.grid_id == grid.id))}
    assert moved == {"9栋": grid.id, "3栋": grid.id}
    page = await console.page("/console/manage/grids")
    assert page.index("第三网格") < page.index("9栋")


async def test_faq_entries(console, place, db):
    await logged_in(console, "staff")
    form = {"question": "物业电话是多少", "answer": "物业服务中心：0710-1234567", "keywords": "物业，电话", "enabled": "1"}
    assert (await console.post("/console/manage/faq", form)).status == 303
    dup = await console.post("/console/manage/faq", form)
    assert dup.status == 409
    async with db.sessions() as session:
        entry = await session.scalar(select(FaqEntry))
    assert entry.keywords == ["物业", "电话"] and entry.enabled
    edited = await console.post("/console/manage/faq", {**form, "id": str(entry.id), "answer": "新号码", "enabled": ""})
    assert edited.status == 303
    async with db.sessions() as session:
        entry = await session.get(FaqEntry, entry.id)
    assert (entry.answer, entry.enabled) == ("新号码", False)
    assert (await console.post(f"/console/manage/faq/{entry.id}/delete")).status == 303
    assert (await console.post(f"/console/manage/faq/{entry.id}/delete")).status == 404


async def test_faq_edits_reach_the_bot(console, place, app_client, settings, db):
    from bot.demo_data import demo_faq
    from storage import faq
    from tests.wechat_client import WeChatClient

    async with db.sessions.begin() as session:  # the usual entries, without the one about 老年证
        await faq.add_missing(session, place.community_id, [e for e in demo_faq() if "老年" not in e["question"]])
    await logged_in(console, "staff")
    await console.post("/console/manage/faq", {"question": "老年证怎么办理", "answer": "带身份证到社区服务大厅办理。",
                                               "keywords": "老年证", "enabled": "1"})
    reply = await WeChatClient(app_client, settings.accounts[0]).resident("o_zhang").say("老年证怎么办理")
    assert "带身份证到社区服务大厅办理。" in reply


async def test_canned_replies(console, place, db):
    await logged_in(console, "staff")
    assert (await console.post("/console/manage/canned", {"title": "已派人", "body": "已安排人员上门。"})).status == 303
    assert (await console.post("/console/manage/canned", {"title": "已派人", "body": "重复"})).status == 409
    async with db.sessions() as session:
        row = await session.scalar(select(CannedReply))
    assert (await console.post("/console/manage/canned", {"id": str(row.id), "title": "已派人", "body": "改了"})).status == 303
    assert "改了" in await console.page("/console/manage/canned")
    assert (await console.post(f"/console/manage/canned/{row.id}/delete")).status == 303


async def test_admin_creates_disables_and_resets_accounts(console, new_console, place, db):
    await logged_in(console, "admin")
    weak = await console.post("/console/manage/staff", {"username": "new", "password": "short", "role": "admin"})
    assert weak.status == 400 and "至少需要10个字符" in await weak.text()
    no_grid = await console.post("/console/manage/staff", {"username": "gw", "password": "long-password-9",
                                                           "role": "grid_worker"})
    assert no_grid.status == 400 and "至少要负责一个网格" in await no_grid.text()
    created = await console.post("/console/manage/staff", {"username": "gw", "password": "long-password-9",
                                                           "role": "grid_worker", "grid_ids": str(place.grids["第二网格"])})
    assert created.status == 303
    fresh = await new_console()
    assert (await fresh.login("gw", "long-password-9")).status == 303
    async with db.sessions() as session:
        account = await session.scalar(select(StaffAccount).where(StaffAccount.username == "gw"))
    assert (await console.post(f"/console/manage/staff/{account.id}", {"active": "0"})).status == 303
    assert (await fresh.get("/console/tickets")).status == 303  # logged out at once
    assert (await console.post(f"/console/manage/staff/{account.id}", {"active": "1"})).status == 303
    assert (await console.post(f"/console/manage/staff/{account.id}", {"password": "another-pass-7"})).status == 303
    assert (await fresh.login("gw", "long-password-9")).status == 401
    assert (await fresh.login("gw", "another-pass-7")).status == 303
    own = await console.post(f"/console/manage/staff/{place.staff['admin']}", {"active": "0"})
    assert own.status == 400 and "不能停用自己的账号" in await own.text()
    foreign = await console.post(f"/console/manage/staff/{place.staff['otherstaff']}", {"active": "0"})
    assert foreign.status == 404  # not of this community
    audit = await console.page("/console/manage/audit")
    assert "新建工作人员账号" in audit and "修改工作人员账号" in audit and "another-pass-7" not in audit
    async with db.sessions() as session:
        details = [r.detail for r in await session.scalars(select(StaffAudit).where(StaffAudit.action == "staff.update"))]
    assert all("password" not in str(d).replace("password_changed", "") for d in details)


async def test_notice_templates_show_what_is_configured(console, place):
    await logged_in(console, "staff")
    page = await console.page("/console/manage/templates")
    assert "TPL_REPLY" in page and "工作人员回复" in page and "未配置" in page
    assert "linli-test-secret" not in page and "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" not in page  # no secrets
