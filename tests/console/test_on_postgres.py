"""The console on the production database: login and its rate limit, the inbox with filters and
search, a reply through the outbox, an escalated thread, management lists and the dashboard."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import OutboxMessage
from tests.console.conftest import logged_in, make_ticket
from tests.console.test_tickets import numbers


@pytest.fixture
def db_url(pg_url):
    return pg_url


async def test_console_on_postgres(console, place, services, db, clock, app_client, settings):
    from tests.wechat_client import WeChatClient

    lamp = await make_ticket(services, place, description="3栋楼道灯坏了")
    leak = await make_ticket(services, place, description="6栋门口漏水", building="6栋", openid="o_wang",
                             category="water_drain")
    for _ in range(5):
        await console.login("staff", "bad-password-1")
    assert (await console.login("staff")).status == 429
    await logged_in(console, "admin")
    assert numbers(await console.page("/console/tickets?q=漏水")) == [leak.number]
    assert numbers(await console.page(f"/console/tickets?assignee=r{place.residents['o_mh']}")) == [lamp.number]
    assert numbers(await console.page("/console/tickets?sort=grade")) and "王志强" in await console.page(
        "/console/manage/residents")
    reply = await console.post(f"/console/tickets/{lamp.id}/reply", {"text": "已派电工", "form_key": "pg1",
                                                                    "resident_id": str(place.residents["o_zhang"])})
    assert reply.status == 303
    await console.post(f"/console/tickets/{lamp.id}/reply", {"text": "已派电工", "form_key": "pg1",
                                                             "resident_id": str(place.residents["o_zhang"])})
    async with db.sessions() as session:
        assert len(list(await session.scalars(select(OutboxMessage).where(OutboxMessage.notice_kind == "reply")))) == 1
    await WeChatClient(app_client, settings.accounts[0]).resident("o_zhang").say("转人工")
    assert "张建国" in await console.page("/console/threads")
    members = (await console.page("/console/manage/residents?role=member_household")).split("<tbody>")[1]
    assert "李秀英" in members and "张建国" not in members  # the JSON roles matched on PostgreSQL too
    dashboard = await console.page("/console/dashboard")
    assert "收到工单</span><b>2</b>" in dashboard
    assert (await console.get("/console/dashboard/export.xlsx")).status == 200
