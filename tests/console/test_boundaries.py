"""Role boundaries and cross-community access by id for the management routes that act on one
row: care households, points-mall items, orders and activities (their authorisation only — the
points pages' behaviour is tested in test_points_pages)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from nlp.timephrase import SHANGHAI
from storage.member_models import CareHousehold, Visit
from storage.models import Resident
from storage.points_models import Activity, MallItem, MallOrder
from storage.staff_models import StaffAudit
from tests.console.conftest import logged_in


@pytest.fixture
async def far(place, services, clock):
    """The other community's household, item, order and activity (ids that staff of "test" must not reach)."""
    from storage.members import care
    from storage.points import activities, ledger, mall

    async with services.db.sessions.begin() as session:
        resident = Resident(community_id=place.other_community_id, openid="o_far", name="远方", subscribed=True)
        session.add(resident)
        await session.flush()
        household = await care.add_household(
            session, community_id=place.other_community_id, name="隔壁的奶奶", category="elderly_alone",
            plan=care.Plan(recurrence="weekly", anchor=date(2026, 11, 30)), now=clock.now, settings=services.settings)
        item = await mall.add_item(session, community_id=place.other_community_id, name="隔壁的米", cost=5, stock=9,
                                   actor="otherstaff", now=clock.now)
        await ledger.award(session, community_id=place.other_community_id, resident_id=resident.id, points=20,
                           reason="测试", source_key="far1", now=clock.now)
        await mall.redeem(session, community_id=place.other_community_id, resident_id=resident.id, item_id=item.id,
                          source_key="far2", now=clock.now)
        starts = datetime(2026, 11, 28, 9, 0, tzinfo=SHANGHAI)
        activity = await activities.create(session, community_id=place.other_community_id, title="隔壁的活动",
                                           place="隔壁广场", starts_at=starts, ends_at=starts + timedelta(hours=2),
                                           capacity=5, actor="otherstaff", now=clock.now)
        order = await session.scalar(select(MallOrder))
    return {"household": household.id, "item": item.id, "order": order.id, "activity": activity.id}


def row_routes(ids: dict[str, int]) -> list[tuple[str, str, dict]]:
    """(method, path, form) of every route that names one of those rows."""
    h, i, o, a = ids["household"], ids["item"], ids["order"], ids["activity"]
    return [("GET", f"/console/manage/care/{h}", {}),
            ("POST", f"/console/manage/care/{h}/schedule", {"recurrence": "monthly", "anchor": "2026-12-01"}),
            ("POST", f"/console/manage/care/{h}/member", {"member_id": ""}),
            ("POST", f"/console/manage/care/{h}/remove", {}),
            ("POST", f"/console/manage/mall/{i}/restock", {"add": "5"}),
            ("POST", f"/console/manage/mall/{i}/enable", {"enabled": "0"}),
            ("POST", f"/console/manage/orders/{o}/cancel", {}),
            ("GET", f"/console/manage/activities/{a}", {}),
            ("POST", f"/console/manage/activities/{a}/attend", {"who": "远方"})]


async def call(console, method: str, path: str, form: dict):
    return await (console.get(path) if method == "GET" else console.post(path, form))


async def unchanged(db, ids: dict[str, int]) -> None:
    async with db.sessions() as session:
        household = await session.get(CareHousehold, ids["household"])
        item = await session.get(MallItem, ids["item"])
        order = await session.get(MallOrder, ids["order"])
        visits = [(v.due_date, v.status) for v in await session.scalars(select(Visit))]
        activity = await session.get(Activity, ids["activity"])
        audit = list(await session.scalars(select(StaffAudit).where(StaffAudit.action.not_in(("login", "community.switch")))))
    assert household.active and household.member_resident_id is None
    assert (item.stock, item.enabled) == (8, True) and order.status == "placed"
    assert visits == [(date(2026, 11, 30), "open")] and activity.status == "open"
    assert audit == []


async def test_another_communitys_rows_are_not_found(console, place, far, db):
    await logged_in(console, "staff")
    for method, path, form in row_routes(far):
        response = await call(console, method, path, form)
        assert response.status == 404, (method, path, response.status)
        assert "找不到这个页面" in await response.text()
    await unchanged(db, far)


async def test_even_an_admin_acts_only_in_the_community_shown(console, place, far, db):
    await logged_in(console, "admin")  # reaches both, but the console shows "test"
    for method, path, form in row_routes(far):
        assert (await call(console, method, path, form)).status == 404, path
    await unchanged(db, far)


@pytest.mark.parametrize("username", ["grid1", "street"])
async def test_grid_workers_and_street_staff_are_refused(console, place, far, db, username):
    await logged_in(console, username)
    if username == "street":  # street staff reach the other community: switching there changes nothing
        await console.post("/console/community", {"community_id": str(place.other_community_id)})
    for method, path, form in row_routes(far):
        response = await call(console, method, path, form)
        assert response.status == 403, (method, path, response.status)
    for path in ("/console/manage/care", "/console/manage/codes", "/console/manage/templates"):
        assert (await console.get(path)).status == 403
    await unchanged(db, far)


async def test_the_other_communitys_staff_may_act_on_them(console, place, far, db):
    await logged_in(console, "otherstaff")
    await console.page(f"/console/manage/care/{far['household']}")
    await console.page(f"/console/manage/activities/{far['activity']}")
    assert (await console.post(f"/console/manage/mall/{far['item']}/restock", {"add": "1"})).status == 303


async def test_without_a_login_nothing_happens(console, place, far, db):
    for method, path, form in row_routes(far):
        response = await call(console, method, path, {**form, "_csrf": "x"})
        assert response.status in (303, 401), (method, path, response.status)
    await unchanged(db, far)
