"""Points in the console: adjustments, the mall and its orders, activities and check-in."""

from __future__ import annotations

from sqlalchemy import select

from storage.points import ledger, mall
from storage.points_models import Activity, ActivitySignup, MallItem, MallOrder
from storage.staff_models import StaffAudit
from tests.console.conftest import logged_in


async def balance(db, resident_id: int) -> int:
    async with db.sessions() as session:
        return (await ledger.balance(session, resident_id)).balance


async def test_adjustments(console, place, db):
    await logged_in(console, "staff")
    zhang = place.residents["o_zhang"]
    assert (await console.post("/console/manage/points/adjust",
                               {"who": "13807100001", "delta": "30", "reason": "调解邻里纠纷"})).status == 303
    assert await balance(db, zhang) == 30
    short = await console.post("/console/manage/points/adjust", {"who": "张建国", "delta": "-50", "reason": "更正"})
    assert short.status == 409 and "积分不够扣减" in await short.text()
    nobody = await console.post("/console/manage/points/adjust", {"who": "无此人", "delta": "5", "reason": "x"})
    assert nobody.status == 400 and "找不到这位居民" in await nobody.text()
    zero = await console.post("/console/manage/points/adjust", {"who": "张建国", "delta": "0", "reason": "x"})
    assert zero.status == 400
    page = await console.page("/console/manage/points")
    assert "调解邻里纠纷" in page and "STAFF" in page
    async with db.sessions() as session:
        assert [a.action for a in await session.scalars(select(StaffAudit).where(StaffAudit.action.like("points%")))] \
            == ["points.adjust"]


async def test_mall_and_orders(console, place, db, services):
    await logged_in(console, "staff")
    assert (await console.post("/console/manage/mall", {"name": "洗衣液", "cost": "20", "stock": "1"})).status == 303
    async with db.sessions() as session:
        item = await session.scalar(select(MallItem))
    assert (await console.post(f"/console/manage/mall/{item.id}/restock", {"add": "2"})).status == 303
    zhang = place.residents["o_zhang"]
    async with db.sessions.begin() as session:
        await ledger.award(session, community_id=place.community_id, resident_id=zhang, points=50, reason="测试",
                           source_key="t1", now=services.clock())
        await mall.redeem(session, community_id=place.community_id, resident_id=zhang, item_id=item.id,
                          source_key="r1", now=services.clock())
        await mall.redeem(session, community_id=place.community_id, resident_id=zhang, item_id=item.id,
                          source_key="r2", now=services.clock())
    async with db.sessions() as session:
        first, second = list(await session.scalars(select(MallOrder).order_by(MallOrder.id)))
    page = await console.page("/console/manage/points")
    assert first.pickup_code in page and "洗衣液" in page
    assert (await console.post("/console/manage/orders/pickup", {"code": first.pickup_code})).status == 303
    again = await console.post("/console/manage/orders/pickup", {"code": first.pickup_code})
    assert again.status == 409 and "找不到待领取的兑换" in await again.text()
    assert (await console.post(f"/console/manage/orders/{second.id}/cancel")).status == 303
    assert await balance(db, zhang) == 30  # 50 − 20 − 20 + 20 back
    assert (await console.post(f"/console/manage/mall/{item.id}/enable", {"enabled": "0"})).status == 303
    async with db.sessions() as session:
        item = await session.get(MallItem, item.id)
        statuses = [o.status for o in await session.scalars(select(MallOrder).order_by(MallOrder.id))]
    assert (item.enabled, item.stock, statuses) == (False, 2, ["picked_up", "cancelled"])


async def test_activity_and_check_in(console, place, db):
    await logged_in(console, "staff")
    created = await console.post("/console/manage/activities", {
        "title": "小区清洁日", "place": "中心广场", "starts_at": "2026-11-28T09:00", "ends_at": "2026-11-28T11:00",
        "capacity": "10"})
    assert created.status == 303
    async with db.sessions() as session:
        activity = await session.scalar(select(Activity))
    assert activity.points == 20  # 2 hours × 10 per hour by default
    bad = await console.post("/console/manage/activities", {
        "title": "倒着的活动", "place": "x", "starts_at": "2026-11-28T11:00", "ends_at": "2026-11-28T09:00",
        "capacity": "10"})
    assert bad.status == 409 and "结束要晚于开始" in await bad.text()
    assert (await console.post(f"/console/manage/activities/{activity.id}/attend", {"who": "王志强"})).status == 303
    page = await console.page(f"/console/manage/activities/{activity.id}")
    assert "王志强" in page and "现场参加" in page
    assert await balance(db, place.residents["o_wang"]) == 20
    again = await console.post(f"/console/manage/activities/{activity.id}/attend", {"who": "王志强"})
    assert again.status == 303 and await balance(db, place.residents["o_wang"]) == 20  # points once
    async with db.sessions() as session:
        assert len(list(await session.scalars(select(ActivitySignup)))) == 1
    await console.page("/console/manage/activities/999", status=404)
