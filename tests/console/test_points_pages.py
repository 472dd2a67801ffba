"""Points in the console: adjustments, the mall and its orders, the monthly leaderboard, the
resources list, activities (deadline, tags, check-in, cancellation)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import select

from nlp.timephrase import SHANGHAI
from storage.models import OutboxMessage, Resident
from storage.points import activities, leaderboard, ledger, mall, resources
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


async def test_activity_and_check_in(console, place, db, clock):
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
    early = await console.post(f"/console/manage/activities/{activity.id}/attend", {"who": "王志强"})
    assert early.status == 409 and "只能在活动开始后（11月28日（周六）09:00）到 11月29日（周日）11:00 之间标记签到" \
        in await early.text()  # the default grace: a day after the end
    clock.now = activity.starts_at
    await logged_in(console, "staff")  # five days on: a fresh console session
    assert (await console.post(f"/console/manage/activities/{activity.id}/attend", {"who": "王志强"})).status == 303
    page = await console.page(f"/console/manage/activities/{activity.id}")
    assert "王志强" in page and "现场参加" in page
    assert await balance(db, place.residents["o_wang"]) == 20
    again = await console.post(f"/console/manage/activities/{activity.id}/attend", {"who": "王志强"})
    assert again.status == 303 and await balance(db, place.residents["o_wang"]) == 20  # points once
    async with db.sessions() as session:
        assert len(list(await session.scalars(select(ActivitySignup)))) == 1
    await console.page("/console/manage/activities/999", status=404)


# ---- the leaderboard, the resources list, activity details and cancellation ------------------

async def _award(db, place, openid: str, points: int, at, key: str, community_id: int | None = None) -> None:
    async with db.sessions.begin() as session:
        await ledger.award(session, community_id=community_id or place.community_id,
                           resident_id=place.residents[openid], points=points, reason="测试", source_key=key, now=at)


async def test_the_monthly_leaderboard_per_community_and_grid(console, place, db, services, clock):
    await logged_in(console, "staff")
    now = clock()
    await _award(db, place, "o_zhang", 30, now, "a")
    await _award(db, place, "o_wang", 50, now, "b")
    await _award(db, place, "o_mh", 30, now, "c")
    await _award(db, place, "o_zhang", 99, now - timedelta(days=40), "old")  # October: not this month
    async with db.sessions.begin() as session:  # names are escaped, and opted-out residents are marked
        (await session.get(Resident, place.residents["o_mh"])).name = "<b>李</b>秀英"
        await leaderboard.set_opt_out(session, community_id=place.community_id, resident_id=place.residents["o_mh"],
                                      opted_out=True, now=now)
    page = await console.page("/console/manage/points/leaderboard")
    assert "2026年11月" in page and 'value="2026-11"' in page
    community = page[page.index("<h2>全社区</h2>"):]
    community = community[:community.index("</section>")]
    assert community.index("王志强") < community.index("张建国")
    assert re.search(r"<td>1</td><td>王志强</td>.*?<td>50</td>", community, re.S)
    assert re.search(r"<td>2</td><td>张建国.*?<td>30</td>", community, re.S)
    assert re.search(r"<td>2</td><td>&lt;b&gt;李&lt;/b&gt;秀英 <span class=\"badge\">已退订</span>", community)
    first_grid = page[page.index("<h2>第一网格</h2>"):]
    assert "张建国" in first_grid[:first_grid.index("</section>")]
    assert "王志强" not in first_grid[:first_grid.index("</section>")]
    assert "<b>李</b>" not in page
    october = await console.page("/console/manage/points/leaderboard?month=2026-10")
    assert "2026年10月" in october and "<td>99</td>" in october and "王志强" not in october
    assert "2026年11月" in await console.page("/console/manage/points/leaderboard?month=bad")
    assert "/console/manage/points/leaderboard" in await console.page("/console/manage")


async def test_the_resources_list_is_searched_by_skill_and_time(console, place, db, services):
    now = services.clock()
    async with db.sessions.begin() as session:
        await resources.register(session, community_id=place.community_id, resident_id=place.residents["o_zhang"],
                                 skills=["修电器"], availability=["周末"], said="我会修电器，周末有空", now=now)
        await resources.register(session, community_id=place.community_id, resident_id=place.residents["o_wang"],
                                 skills=["理发"], availability=["周六上午"], said="<i>理发</i>", now=now)
        other = Resident(community_id=place.other_community_id, openid="o_far", name="隔壁老刘", roles=[],
                         subscribed=True)
        session.add(other)
        await session.flush()
        await resources.register(session, community_id=place.other_community_id, resident_id=other.id,
                                 skills=["修电器"], availability=["周末"], said="我会修电器", now=now)
    await logged_in(console, "staff")
    everyone = await console.page("/console/manage/resources")
    assert "张建国" in everyone and "王志强" in everyone and "隔壁老刘" not in everyone
    assert "&lt;i&gt;理发&lt;/i&gt;" in everyone and "<i>理发</i>" not in everyone
    found = await console.page("/console/manage/resources?q=" + quote("電器 周末"))  # traditional is fine too
    assert "张建国" in found and "王志强" not in found and 'value="電器 周末"' in found
    assert "没有符合" in await console.page("/console/manage/resources?q=" + quote("理发 周末"))
    assert "/console/manage/resources" in await console.page("/console/manage")


async def test_leaderboard_and_resources_are_for_managers_only(console, place):
    await logged_in(console, "grid1")
    for path in ("/console/manage/points/leaderboard", "/console/manage/resources"):
        assert (await console.get(path)).status == 403


async def test_an_activity_with_a_deadline_and_tags(console, place, db):
    await logged_in(console, "staff")
    created = await console.post("/console/manage/activities", {
        "title": "反诈宣传", "place": "活动室", "starts_at": "2026-11-28T09:00", "ends_at": "2026-11-28T11:00",
        "capacity": "10", "signup_deadline": "2026-11-27T18:00", "tags": "宣传，助老 宣传"})
    assert created.status == 303
    async with db.sessions() as session:
        activity = await session.scalar(select(Activity))
    assert activity.tags == ["宣传", "助老"]
    assert activity.signup_deadline == datetime(2026, 11, 27, 18, 0, tzinfo=SHANGHAI)
    page = await console.page(f"/console/manage/activities/{activity.id}")
    assert "报名截止 2026-11-27 18:00" in page and '<span class="badge">助老</span>' in page
    late = await console.post("/console/manage/activities", {
        "title": "x", "place": "y", "starts_at": "2026-11-28T09:00", "ends_at": "2026-11-28T11:00", "capacity": "5",
        "signup_deadline": "2026-11-29T09:00"})
    assert late.status == 409


async def test_cancelling_an_activity_tells_everyone_on_it(console, place, db, services):
    now = services.clock()
    async with db.sessions.begin() as session:
        activity = await activities.create(session, community_id=place.community_id, title="关爱老人",
                                           place="服务中心", starts_at=now + timedelta(days=2),
                                           ends_at=now + timedelta(days=2, hours=2), capacity=1, actor="王主任",
                                           now=now, points=20)
        for openid in ("o_zhang", "o_wang"):
            await activities.sign_up(session, activity=activity, resident_id=place.residents[openid], now=now)
    await logged_in(console, "staff")
    path = f"/console/manage/activities/{activity.id}/cancel"
    assert (await console.post(path, {"reason": "暴雨"}, csrf=False)).status == 403  # CSRF
    assert (await console.post(path, {"reason": "暴雨"})).status == 303
    again = await console.post(path, {"reason": "暴雨"})
    assert again.status == 409 and "这个活动已经取消了" in await again.text()
    async with db.sessions() as session:
        assert (await session.get(Activity, activity.id)).status == "cancelled"
        notices = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        actions = [a.action for a in await session.scalars(select(StaffAudit).where(StaffAudit.action.like("activity%")))]
    assert sorted(n.openid for n in notices) == ["o_wang", "o_zhang"]  # confirmed and waitlisted
    assert {n.notice_kind for n in notices} == {"activity_cancelled"}
    assert all("“关爱老人”" in n.payload["content"] and "原因：暴雨。" in n.payload["content"] for n in notices)
    assert actions == ["activity.cancel"]
    assert "这个活动已经取消" in await console.page(f"/console/manage/activities/{activity.id}")
    await logged_in(console, "otherstaff")
    other = await console.post(f"/console/manage/activities/{activity.id}/cancel", {"reason": "x"})
    assert other.status == 404
