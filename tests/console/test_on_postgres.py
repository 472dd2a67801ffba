"""The console on the production database: login and its rate limit, the inbox with filters and
search, a reply through the outbox, an escalated thread, management lists and the dashboard."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import OutboxMessage
from tests.console.conftest import logged_in, make_ticket
from tests.console.test_tickets import numbers

pytestmark = pytest.mark.backend_specific  # PostgreSQL in every pass, so once is enough


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


async def test_the_login_limit_holds_across_processes(pg_url):
    """Two engines stand for two server processes: their simultaneous tries are counted as one."""
    import asyncio
    from datetime import timedelta

    from storage.db import Database
    from storage.staff import throttle
    from tests.tickets_chat.conftest import START

    engines = [Database(pg_url), Database(pg_url)]
    limits = throttle.Limits(timedelta(minutes=15), per_username=5, per_ip=8)

    async def attempt(n: int, username: str, ip: str) -> int | None:
        async with engines[n % 2].sessions.begin() as session:
            return await throttle.admit(session, username=username, ip=ip, now=START, limits=limits)
    try:
        same_user = await asyncio.gather(*(attempt(n, "staff", f"10.0.0.{n}") for n in range(20)))
        same_ip = await asyncio.gather(*(attempt(n, f"user{n}", "10.9.9.9") for n in range(20)))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(a is not None for a in same_user) == 5
    assert sum(a is not None for a in same_ip) == 8
