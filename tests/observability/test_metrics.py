"""/metrics after real traffic: signed messages through the endpoint, a late reply through the
outbox, queued outbox rows and overdue tickets, read back with prometheus_client's parser."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot import keys
from bot.app import create_app
from bot.dispatcher.router import Router
from bot.replies import Text
from bot.services import utcnow
from bot.ticket_jobs import supervise_overdue
from storage import outbox
from storage.db import Database
from storage.models import Resident
from storage.tickets import TicketDraft, create_ticket
from tests.conftest import make_settings
from tests.observability.conftest import scrape
from tests.wechat_client import WeChatClient


async def test_messages_are_counted_by_type_and_intent_and_timed(app_client, wechat):
    before = await scrape(app_client)
    chat = wechat.resident("o_metrics")
    assert await chat.say("你好")
    assert await chat.say("3栋楼道灯坏了")
    assert (await chat.event("subscribe")).status == 200
    xml = chat.text_xml("你好")
    first, retry = await wechat.deliver(xml), await wechat.deliver(xml)  # WeChat's retry of the same MsgId
    assert first.text == retry.text
    after = await scrape(app_client)

    def delta(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    assert delta("linli_messages_total", type="text", intent="greeting") == 2
    assert delta("linli_messages_total", type="text", intent="repair") == 1
    assert delta("linli_messages_total", type="event:subscribe", intent="none") == 1
    assert delta("linli_messages_total") == 4
    assert delta("linli_message_retries_total", type="text") == 1
    assert delta("linli_reply_latency_seconds_count") == 5  # every POST, the retry included
    assert delta("linli_reply_latency_seconds_bucket", le="+Inf") == 5
    assert delta("linli_reply_latency_seconds_sum") > 0
    assert delta("linli_deadline_misses_total") == 0


async def test_a_late_reply_counts_a_deadline_miss_and_an_outbox_send(aiohttp_client, db_url, fake_wechat,
                                                                      nlu_engine):
    router = Router("slow")

    @router.on(kind="text")
    async def slow(ctx):
        await asyncio.sleep(0.6)  # well past the 0.2 s deadline below
        return Text("晚到的回复")

    settings = make_settings(db_url, fake_wechat.base_url, server={"reply_deadline_seconds": 0.2})
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, router=router, scheduler=False))
    wechat = WeChatClient(client, settings.accounts[0])
    before = await scrape(client)
    assert (await wechat.resident("o_late").send("text", {"Content": "慢"})).body == "success"
    after = await _scrape_until(client, lambda s: s.value("linli_outbox_deliveries_total", kind="text", result="sent")
                                > before.value("linli_outbox_deliveries_total", kind="text", result="sent"))
    assert after.value("linli_deadline_misses_total") - before.value("linli_deadline_misses_total") == 1
    assert [m["content"] for m in fake_wechat.sent_to("o_late")] == ["晚到的回复"]


async def test_outbox_backlog_and_the_age_of_its_oldest_row(aiohttp_client, db_url, nlu_engine):
    settings = make_settings(db_url, observability={"db_gauges_max_age_seconds": 0})
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, scheduler=False, outbox_worker=False))
    empty = await scrape(client)
    assert empty.value("linli_database_gauges_up") == 1
    assert empty.value("linli_outbox_backlog") == 0 and empty.value("linli_outbox_oldest_age_seconds") == 0
    await _queue(client.app[keys.SERVICES], 3, queued_at=utcnow() - timedelta(minutes=5))
    queued = await scrape(client)
    assert queued.value("linli_outbox_backlog") == 3
    assert queued.value("linli_outbox_oldest_age_seconds") >= 300


async def test_database_gauges_are_not_read_again_within_their_max_age(aiohttp_client, db_url, nlu_engine):
    settings = make_settings(db_url, observability={"db_gauges_max_age_seconds": 3600})
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, scheduler=False, outbox_worker=False))
    assert (await scrape(client)).value("linli_outbox_backlog") == 0
    await _queue(client.app[keys.SERVICES], 2, queued_at=utcnow())
    assert (await scrape(client)).value("linli_outbox_backlog") == 0  # the cached reading


async def test_overdue_and_supervised_tickets_per_community(aiohttp_client, db_url, nlu_engine):
    now = [utcnow()]
    settings = make_settings(db_url, observability={"db_gauges_max_age_seconds": 0})
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, clock=lambda: now[0], scheduler=False,
                                             outbox_worker=False))
    services = client.app[keys.SERVICES]
    await _file_ticket(services)
    on_time = await scrape(client)
    assert on_time.value("linli_tickets_overdue", community="test") == 0
    assert on_time.value("linli_tickets_supervised", community="test") == 0
    now[0] += timedelta(days=30)  # past every default deadline
    late = await scrape(client)
    assert late.value("linli_tickets_overdue", community="test", deadline="respond") == 1
    assert late.value("linli_tickets_overdue", community="test", deadline="resolve") == 1
    assert await supervise_overdue(services) == 1  # 督办
    supervised = await scrape(client)
    assert supervised.value("linli_tickets_supervised", community="test") == 1
    assert supervised.value("linli_tickets_overdue", community="test", deadline="resolve") == 1


async def test_a_scrape_still_answers_when_the_database_does_not(aiohttp_client, db_url, nlu_engine, tmp_path):
    settings = make_settings(db_url, observability={"db_gauges_max_age_seconds": 0})
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, scheduler=False, outbox_worker=False))
    services = client.app[keys.SERVICES]
    working, directory = services.db, tmp_path / "not-a-database"
    directory.mkdir()
    services.db = Database(f"sqlite+aiosqlite:///{directory}")
    try:
        broken = await scrape(client)
    finally:
        await services.db.dispose()
        services.db = working
    assert broken.value("linli_database_gauges_up") == 0
    assert broken.find("linli_outbox_backlog") == [] and broken.find("linli_tickets_overdue") == []
    assert broken.find("linli_messages_total") is not None  # the process metrics are still there


async def test_metrics_can_be_turned_off(aiohttp_client, db_url, nlu_engine):
    settings = make_settings(db_url, observability={"metrics": False})
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, scheduler=False, outbox_worker=False))
    assert (await client.get("/metrics")).status == 404
    assert (await client.get("/readyz")).status == 200


# ---- helpers ----------------------------------------------------------------------------------

async def _scrape_until(client, condition, attempts: int = 250):
    """Scrape until ``condition(scrape)`` holds (the outbox worker runs beside the test)."""
    for _ in range(attempts):
        current = await scrape(client)
        if condition(current):
            return current
        await asyncio.sleep(0.02)
    pytest.fail("the metric never changed")


async def _queue(services, count: int, *, queued_at) -> None:
    async with services.db.sessions.begin() as session:
        for index in range(count):
            await outbox.enqueue(session, community_id=services.community_ids["test"], account="test",
                                 openid=f"o_queued_{index}", kind="text", payload={"content": "稍后送达"},
                                 now=queued_at + timedelta(seconds=index))


async def _file_ticket(services) -> None:
    async with services.db.sessions.begin() as session:
        reporter = Resident(community_id=services.community_ids["test"], openid="o_reporter", subscribed=True)
        session.add(reporter)
        await session.flush()
        await create_ticket(session, community_id=services.community_ids["test"], reporter=reporter,
                            draft=TicketDraft(kind="repair", category="lighting", description="3栋楼道灯不亮"),
                            now=services.clock(), settings=services.settings)
