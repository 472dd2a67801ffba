"""The whole path under load: 50 residents confirm a redemption at the same moment through the
real endpoint — on SQLite and on PostgreSQL (the app running on its own migrated database) —
and exactly as many orders are placed as there was stock."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.texts import points as t
from storage.points import ledger
from storage.points_models import MallItem, MallOrder
from tests.conftest import make_settings
from tests.points.conftest import Staff
from tests.wechat_client import WeChatClient

pytestmark = pytest.mark.backend_specific  # both backends, chosen here


@pytest.fixture(params=["sqlite", "postgresql"])
def chat_db_url(request) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
async def app_client(aiohttp_client, chat_db_url, fake_wechat, nlu_engine, clock):
    from bot.app import create_app

    settings = make_settings(chat_db_url, fake_wechat.base_url, database={"url": chat_db_url, "pool_size": 30})
    return await aiohttp_client(create_app(settings, nlu=nlu_engine, clock=clock, scheduler=False,
                                           outbox_worker=False))


@pytest.fixture
def wechat(app_client, services):
    return WeChatClient(app_client, services.settings.accounts[0])


async def test_fifty_residents_confirm_at_once_and_ten_get_the_item(wechat, staff: Staff, services):
    item = await staff.item("大米", cost=30, stock=10)
    chats = [wechat.resident(f"o_{n:02d}") for n in range(50)]
    for chat in chats:
        await staff.give(chat.openid, 40)
        assert (await chat.say(f"兑换 {item.number}")).startswith("确认用 30 分兑换")
    replies = await asyncio.gather(*(chat.say("确认") for chat in chats))
    assert sum(reply.startswith("兑换成功") for reply in replies) == 10
    assert replies.count(t.REDEEM_OUT_OF_STOCK.format(name="大米")) == 40
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MallOrder)) == 10
        assert await session.scalar(select(MallItem.stock).where(MallItem.id == item.id)) == 0
        assert await ledger.inconsistencies(session, staff.community_id) == []
    balances = sorted([(await staff.balance(chat.openid)).balance for chat in chats])
    assert balances == [10] * 10 + [40] * 40
