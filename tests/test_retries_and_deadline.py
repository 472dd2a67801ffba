"""WeChat retries every message up to three times and gives up after 5 s: nothing may double,
nothing may be lost, and the resident never sees a 500."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.app import create_app
from bot.dispatcher.router import Router
from bot.keys import ENDPOINT, OUTBOX_WORKER
from bot.replies import Text
from bot.wechat.codec import parse_event
from storage.models import MessageLog, OutboxMessage, ProcessedMessage
from tests.conftest import make_settings
from tests.wechat_client import WeChatClient


class Counting:
    """A router whose one handler counts its runs and can be slow or fail."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.runs = 0
        self.router = Router("test")
        self.delay, self.fail = delay, fail

        @self.router.on(kind="text")
        async def handle(ctx):
            self.runs += 1
            await asyncio.sleep(self.delay)
            if self.fail:
                raise RuntimeError("boom")
            return Text(f"收到：{ctx.text}")


async def _wechat(aiohttp_client, db_url, fake_wechat, nlu_engine, counting, **server):
    settings = make_settings(db_url, fake_wechat.base_url, server=server)
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, router=counting.router, scheduler=False))
    return WeChatClient(client, settings.accounts[0]), client


async def _count(db, model, *where) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_three_concurrent_deliveries_run_the_handler_once(aiohttp_client, db_url, db, fake_wechat, nlu_engine):
    counting = Counting(delay=0.3)
    wechat, _ = await _wechat(aiohttp_client, db_url, fake_wechat, nlu_engine, counting)
    xml = wechat.resident("o_retry").text_xml("3栋楼道灯坏了")
    deliveries = await asyncio.gather(*(wechat.deliver(xml) for _ in range(3)))
    assert counting.runs == 1
    assert all(d.status == 200 for d in deliveries)
    assert {d.text for d in deliveries} <= {"收到：3栋楼道灯坏了", None}
    assert await _count(db, MessageLog, MessageLog.direction == "in") == 1
    assert await _count(db, MessageLog, MessageLog.direction == "out") == 1
    assert await _count(db, OutboxMessage) == 0
    assert fake_wechat.sent == []


async def test_a_retry_after_the_first_answer_gets_the_same_answer(aiohttp_client, db_url, fake_wechat, nlu_engine):
    counting = Counting()
    wechat, _ = await _wechat(aiohttp_client, db_url, fake_wechat, nlu_engine, counting)
    xml = wechat.resident("o_again").text_xml("你好")
    first = await wechat.deliver(xml)
    second = await wechat.deliver(xml)
    assert counting.runs == 1
    assert first.text == second.text == "收到：你好"


async def test_a_late_handler_answers_success_then_one_customer_service_message(
        aiohttp_client, db_url, db, fake_wechat, nlu_engine):
    counting = Counting(delay=0.6)
    wechat, client = await _wechat(aiohttp_client, db_url, fake_wechat, nlu_engine, counting,
                                   reply_deadline_seconds=0.2)
    xml = wechat.resident("o_slow").text_xml("慢慢来")
    first = await wechat.deliver(xml)
    assert first.body == "success"
    retry = await wechat.deliver(xml)  # WeChat would not retry after "success"; a retry must still be harmless
    assert retry.body == "success"
    await _wait_for(lambda: fake_wechat.sent_to("o_slow"))
    await client.app[OUTBOX_WORKER].drain()
    assert counting.runs == 1
    assert [m["content"] for m in fake_wechat.sent_to("o_slow")] == ["收到：慢慢来"]
    async with db.sessions() as session:
        out = (await session.scalars(select(MessageLog).where(MessageLog.direction == "out"))).all()
    assert [(m.delivery, m.content) for m in out] == [("customer_service", "收到：慢慢来")]


async def test_a_request_that_stops_waiting_still_gets_its_reply_delivered(
        aiohttp_client, db_url, db, fake_wechat, nlu_engine):
    """The request's task is cancelled (the server shutting down, say) while the handler runs:
    the handler finishes on its own and its reply goes out through the outbox, not lost."""
    counting = Counting(delay=0.3)
    wechat, client = await _wechat(aiohttp_client, db_url, fake_wechat, nlu_engine, counting)
    endpoint = client.app[ENDPOINT]
    event = parse_event(wechat.resident("o_gone").text_xml("还在吗"), "test")
    waiting = asyncio.create_task(endpoint._within_deadline(event, 4.0, asyncio.get_running_loop().time()))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await _wait_for(lambda: fake_wechat.sent_to("o_gone"))
    await endpoint.drain()
    assert counting.runs == 1
    assert [m["content"] for m in fake_wechat.sent_to("o_gone")] == ["收到：还在吗"]


async def test_a_failing_handler_gives_an_apology_not_a_500(aiohttp_client, db_url, db, fake_wechat, nlu_engine,
                                                            caplog):
    counting = Counting(fail=True)
    wechat, _ = await _wechat(aiohttp_client, db_url, fake_wechat, nlu_engine, counting)
    with caplog.at_level(logging.ERROR, logger="linli.dispatcher"):
        delivery = await wechat.deliver(wechat.resident("o_boom").text_xml("你好"))
    assert delivery.status == 200 and delivery.text == texts.APOLOGY
    assert any("handler failed" in r.message for r in caplog.records)
    async with db.sessions() as session:
        assert (await session.scalar(select(ProcessedMessage.status))) == "done"


async def test_a_crashed_first_attempt_is_adopted_by_a_later_retry(aiohttp_client, db_url, db, fake_wechat,
                                                                   nlu_engine):
    counting = Counting()
    wechat, _ = await _wechat(aiohttp_client, db_url, fake_wechat, nlu_engine, counting)
    xml = wechat.resident("o_crash").text_xml("你好", msg_id="777")
    from datetime import datetime, timedelta, timezone

    async with db.sessions.begin() as session:  # a worker claimed it long ago and died
        session.add(ProcessedMessage(community_id=1, account="test", dedup_key="m:777", status="running",
                                     started_at=datetime.now(timezone.utc) - timedelta(minutes=5)))
    delivery = await wechat.deliver(xml)
    assert counting.runs == 1 and delivery.text == "收到：你好"


async def _claimed_elsewhere(db, *, key: str, heartbeat_age: float) -> None:
    """Another server process claimed `key` a second ago; its last heartbeat was `heartbeat_age` ago."""
    from datetime import datetime, timedelta, timezone

    from storage.models import ServerWorker

    now = datetime.now(timezone.utc)
    async with db.sessions.begin() as session:
        session.add(ServerWorker(id="otherhost:4242:abcd", started_at=now - timedelta(hours=1),
                                 seen_at=now - timedelta(seconds=heartbeat_age)))
        session.add(ProcessedMessage(community_id=1, account="test", dedup_key=key, status="running",
                                     started_at=now - timedelta(seconds=1), worker="otherhost:4242:abcd"))


async def test_a_retry_takes_over_at_once_when_the_first_attempts_process_went_silent(
        aiohttp_client, db_url, db, fake_wechat, nlu_engine):
    counting = Counting()
    wechat, _ = await _wechat(aiohttp_client, db_url, fake_wechat, nlu_engine, counting)
    await _claimed_elsewhere(db, key="m:778", heartbeat_age=30)  # killed mid-message, long before its lease
    delivery = await wechat.deliver(wechat.resident("o_killed").text_xml("你好", msg_id="778"))
    assert counting.runs == 1 and delivery.text == "收到：你好"
    async with db.sessions() as session:
        row = (await session.execute(select(ProcessedMessage.status, ProcessedMessage.worker))).one()
    assert row.status == "done" and row.worker != "otherhost:4242:abcd"


async def test_a_retry_leaves_a_message_to_a_process_that_is_still_beating(
        aiohttp_client, db_url, db, fake_wechat, nlu_engine):
    counting = Counting()
    wechat, _ = await _wechat(aiohttp_client, db_url, fake_wechat, nlu_engine, counting,
                              reply_deadline_seconds=0.5)
    await _claimed_elsewhere(db, key="m:779", heartbeat_age=0)  # slow, but alive: it will answer
    delivery = await wechat.deliver(wechat.resident("o_alive").text_xml("你好", msg_id="779"))
    assert counting.runs == 0 and delivery.body == "success"


async def test_every_server_process_beats_and_says_goodbye(aiohttp_client, db_url, db, fake_wechat, nlu_engine):
    from storage.models import ServerWorker

    settings = make_settings(db_url, fake_wechat.base_url, dedup={"heartbeat_seconds": 0.05,
                                                                   "worker_silent_seconds": 0.2})
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, scheduler=False))
    async with db.sessions() as session:
        first = await session.scalar(select(ServerWorker.seen_at))
    await asyncio.sleep(0.2)
    async with db.sessions() as session:
        assert await session.scalar(select(ServerWorker.seen_at)) > first
    await client.close()
    assert await _count(db, ServerWorker) == 0


async def _wait_for(condition, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    while not condition():
        if loop.time() > until:
            pytest.fail("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.mark.backend_specific
async def test_a_busy_process_still_beats(aiohttp_client, pg_cluster, pg_url, fake_wechat, nlu_engine):
    """An event loop stuck on work must not look dead (others would take its messages over)."""
    import time
    from datetime import datetime, timezone

    settings = make_settings(pg_url, fake_wechat.base_url, dedup={"heartbeat_seconds": 0.05,
                                                                  "worker_silent_seconds": 0.2})
    await aiohttp_client(create_app(settings, nlu=nlu_engine, scheduler=False))
    blocked_at = datetime.now(timezone.utc)
    time.sleep(0.5)  # the loop is busy: nothing else runs on it meanwhile
    database = pg_url.rsplit("/", 1)[1]
    seen_at = pg_cluster.run("psql", "-X", "-A", "-t", "-h", "127.0.0.1", "-p", str(pg_cluster.port), "-U", "linli",
                             "-d", database, "-c", "SELECT extract(epoch FROM seen_at) FROM server_workers").strip()
    assert datetime.fromtimestamp(float(seen_at), timezone.utc) > blocked_at  # read without giving the loop a turn
