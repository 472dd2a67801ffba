"""The database restarts while residents write: WeChat always gets an answer in time, and every
accepted message is handled exactly once when the database is back (bot/spool.py)."""

from __future__ import annotations

import asyncio
import itertools

from sqlalchemy import func, select

from bot import texts
from bot.app import create_app
from storage.db import Database
from storage.models import MessageLog, ProcessedMessage
from tests.conftest import make_settings
from tests.postgres import TEMPLATE
from tests.wechat_client import WeChatClient

GREETING_START = texts.GREETING[:10]


async def _keep_writing(wechat: WeChatClient, sent: list, stop: asyncio.Event) -> None:
    """Ten residents, each a message every few tens of milliseconds, until told to stop."""
    numbers = itertools.count(1)
    while not stop.is_set():
        n = next(numbers)
        openid, msg_id = f"o_load{n % 10}", f"9{n:06d}"
        delivery = await wechat.deliver(wechat.resident(openid).text_xml("你好", msg_id=msg_id))
        sent.append((openid, msg_id, delivery))
        await asyncio.sleep(0.02)


async def _until(condition, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    while not await condition():
        assert loop.time() < until, "not reached in time"
        await asyncio.sleep(0.1)


async def test_a_database_restart_under_load_loses_and_doubles_nothing(aiohttp_client, fake_wechat, nlu_engine,
                                                                      tmp_path, own_pg_cluster):
    cluster = own_pg_cluster
    if True:
        cluster.sql(f"CREATE DATABASE linli_restart TEMPLATE {TEMPLATE}")
        url = cluster.url("linli_restart")
        settings = make_settings(url, fake_wechat.base_url,
                                 server={"spool_dir": str(tmp_path / "spool"), "spool_retry_seconds": 0.2})
        client = await aiohttp_client(create_app(settings, nlu=nlu_engine, scheduler=False))
        wechat = WeChatClient(client, settings.accounts[0])
        sent: list = []
        stop = asyncio.Event()
        load = asyncio.create_task(_keep_writing(wechat, sent, stop))
        await asyncio.sleep(0.5)
        cluster.halt()
        await asyncio.sleep(1.5)
        during = len(sent)
        retried = await wechat.deliver(wechat.resident("o_load1").text_xml("你好", msg_id=sent[-1][1]))
        cluster.resume()
        await asyncio.sleep(1.0)
        stop.set()
        await load

        assert all(d.status == 200 for _, _, d in sent) and retried.status == 200
        down = [(o, m) for o, m, d in sent if d.text == texts.RECEIVED_WHILE_DOWN]
        answered = [(o, m) for o, m, d in sent if d.text and d.text.startswith(GREETING_START)]
        assert down and answered and during > len(down)  # some before, some during, some after
        assert len(down) + len(answered) == len(sent)  # every delivery got one of the two answers
        assert retried.text in (texts.RECEIVED_WHILE_DOWN, None) or retried.text.startswith(GREETING_START)

        db = Database(url)
        try:
            async def all_handled() -> bool:
                async with db.sessions() as session:
                    done = await session.scalar(select(func.count()).select_from(ProcessedMessage)
                                                .where(ProcessedMessage.status == "done"))
                return done == len(sent)
            await _until(all_handled)
            await _until(lambda: _sent_count(fake_wechat, len(down)))
            async with db.sessions() as session:
                inbound = (await session.execute(select(MessageLog.wechat_msg_id, func.count())
                                                 .where(MessageLog.direction == "in")
                                                 .group_by(MessageLog.wechat_msg_id))).all()
        finally:
            await db.dispose()
        assert sorted(m for m, _ in inbound) == sorted(m for _, m, _ in sent)  # every message logged…
        assert all(count == 1 for _, count in inbound)  # …once, the retry included
        late = [item for item in fake_wechat.sent if item["kind"] == "text"]
        assert len(late) == len(down)  # one customer-service reply per message accepted while down
        assert all(item["content"].startswith(GREETING_START) for item in late)


async def _sent_count(fake_wechat, expected: int) -> bool:
    return len([item for item in fake_wechat.sent if item["kind"] == "text"]) >= expected
