"""Role and scope boundaries, enforced on the server: each role tries what it must not do."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import OutboxMessage
from storage.ticket_models import Ticket
from tests.console.conftest import logged_in, make_ticket
from tests.console.test_tickets import numbers


@pytest.fixture
async def three_tickets(place, services):
    """One in 第一网格 (3栋), one in 第二网格 (6栋), one in the other community."""
    grid1 = await make_ticket(services, place, description="3栋楼道灯坏了")
    grid2 = await make_ticket(services, place, description="6栋门口漏水", building="6栋", openid="o_wang",
                              category="water_drain")
    from storage.models import Resident
    async with services.db.sessions.begin() as session:
        session.add(Resident(community_id=place.other_community_id, openid="o_far", name="远方", subscribed=True,
                             building_id=place.buildings["隔壁1栋"]))
    far = await make_ticket(services, place, description="隔壁社区的问题", building="隔壁1栋", openid="o_far",
                            community_id=place.other_community_id)
    return grid1, grid2, far


ALL_ACTIONS = (("reply", {"text": "你好", "resident_id": "1"}), ("note", {"note": "备注"}),
               ("assign", {"assignee": "tstaff"}), ("status", {"to": "resolved"}))


async def test_grid_worker_sees_only_its_grids(console, place, three_tickets, db):
    grid1, grid2, far = three_tickets
    await logged_in(console, "grid1")
    assert numbers(await console.page("/console/tickets")) == [grid1.number]
    assert numbers(await console.page(f"/console/tickets?grid={place.grids['第二网格']}")) == []
    assert numbers(await console.page("/console/tickets?q=漏水")) == []
    await console.page(f"/console/tickets/{grid1.id}")
    for ticket in (grid2, far):
        await console.page(f"/console/tickets/{ticket.id}", status=404)
        for action, form in ALL_ACTIONS:
            response = await console.post(f"/console/tickets/{ticket.id}/{action}", form)
            assert response.status == 404, (action, await response.text())
    async with db.sessions() as session:
        assert (await session.get(Ticket, grid2.id)).status == "assigned"
        assert await session.scalar(select(OutboxMessage).where(OutboxMessage.notice_kind == "reply")) is None


async def test_grid_worker_may_act_in_its_grid(console, place, three_tickets, db):
    grid1, _, _ = three_tickets
    await logged_in(console, "grid1")
    response = await console.post(f"/console/tickets/{grid1.id}/note", {"note": "已到现场"})
    assert response.status == 303


async def test_community_staff_sees_its_community_only(console, place, three_tickets):
    grid1, grid2, far = three_tickets
    await logged_in(console, "staff")
    assert sorted(numbers(await console.page("/console/tickets"))) == sorted([grid1.number, grid2.number])
    await console.page(f"/console/tickets/{far.id}", status=404)
    for action, form in ALL_ACTIONS:
        assert (await console.post(f"/console/tickets/{far.id}/{action}", form)).status == 404


async def test_other_communitys_staff_sees_only_its_own(console, place, three_tickets):
    grid1, _, far = three_tickets
    await logged_in(console, "otherstaff")
    assert numbers(await console.page("/console/tickets")) == [far.number]
    await console.page(f"/console/tickets/{grid1.id}", status=404)


async def test_street_staff_switches_between_its_communities(console, place, three_tickets):
    grid1, grid2, far = three_tickets
    await logged_in(console, "street")
    page = await console.page("/console/tickets")
    assert sorted(numbers(page)) == sorted([grid1.number, grid2.number]) and "隔壁社区" in page
    switched = await console.post("/console/community", {"community_id": str(place.other_community_id)})
    assert switched.status == 303
    assert numbers(await console.page("/console/tickets")) == [far.number]


async def test_nobody_switches_to_a_community_out_of_reach(console, place, three_tickets):
    await logged_in(console, "staff")
    response = await console.post("/console/community", {"community_id": str(place.other_community_id)})
    assert response.status == 403
    assert "测试社区" in await console.page("/console/tickets")


async def test_admin_reaches_every_community(console, place, three_tickets):
    *_, far = three_tickets
    await logged_in(console, "admin")
    await console.page(f"/console/tickets/{far.id}")
    assert (await console.post("/console/community", {"community_id": str(place.other_community_id)})).status == 303
    assert numbers(await console.page("/console/tickets")) == [far.number]


async def test_no_secrets_in_any_page(console, place, three_tickets, settings, wechat_thread):
    from tests.conftest import TEST_AES_KEY, TEST_PREVIOUS_AES_KEY, TEST_SECRET, TEST_TOKEN

    await logged_in(console, "admin")
    cookie = console.client.session.cookie_jar.filter_cookies(console.client.make_url("/console/"))["linli_console"]
    grid1, _, _ = three_tickets
    paths = ["/console/tickets", f"/console/tickets/{grid1.id}", "/console/threads",
             f"/console/threads/{place.residents['o_zhang']}", "/console/dashboard", "/console/manage",
             "/console/manage/residents", f"/console/manage/residents/{place.residents['o_zhang']}",
             "/console/manage/grids", "/console/manage/faq", "/console/manage/canned", "/console/manage/templates",
             "/console/manage/points", "/console/manage/activities", "/console/manage/codes", "/console/manage/care",
             "/console/manage/staff", "/console/manage/audit"]
    for path in paths:
        page = await console.page(path)
        for secret in (TEST_SECRET, TEST_TOKEN, TEST_AES_KEY, TEST_PREVIOUS_AES_KEY, cookie.value, "$argon2"):
            assert secret not in page, (path, secret)


@pytest.fixture
async def wechat_thread(app_client, settings):
    """o_zhang has asked for a person, so the thread pages have something to show."""
    from tests.wechat_client import WeChatClient

    await WeChatClient(app_client, settings.accounts[0]).resident("o_zhang").say("转人工")
