"""The production database: a report filed, a duplicate joined and a timed-out form, on PostgreSQL."""

from __future__ import annotations

import pytest

from bot.intake_jobs import notify_expired_intakes
from bot.texts import tickets as t
from tests.tickets_chat.conftest import conversation, only_ticket, outbox_to

pytestmark = pytest.mark.backend_specific  # PostgreSQL in every pass, so once is enough


@pytest.fixture
def db_url(pg_url):
    return pg_url


async def test_report_join_and_timeout_on_postgres(wechat, db, place, clock, services):
    await conversation(wechat.resident("o_zhang"), "楼道灯坏了", "是", "跳过", "跳过", "确认")
    ticket = await only_ticket(db)
    assert (await conversation(wechat.resident("o_li"), "楼道灯坏了", "是", "跳过", "跳过", "确认", "1"))[-1] == (
        t.JOINED.format(number=ticket.number))
    assert len((await only_ticket(db)).reporters) == 2

    await wechat.resident("o_new").say("路灯不亮了")
    clock.advance(minutes=31)
    assert await notify_expired_intakes(services) == 1
    assert await notify_expired_intakes(services) == 0
    assert [m.notice_kind for m in await outbox_to(db, "o_new")] == ["intake_timeout"]
