"""The outbox worker against a real SQLite database and the fake WeChat API."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.outbox_worker import OutboxWorker, backoff_seconds
from bot.wechat.api import WeChatApi
from bot.wechat.token import TokenManager
from storage import communities, message_log, outbox
from storage.db import Database
from storage.models import MessageLog, OutboxMessage
from tests.conftest import TEST_APPID, TEST_SECRET, make_settings


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def community_id(db) -> int:
    async with db.sessions.begin() as session:
        return (await communities.ensure(session, [("test", "测试社区")]))["test"]


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_worker(db, settings, http, clock=None) -> OutboxWorker:
    tokens = TokenManager(db, http, base_url=settings.wechat.base_url, appid=TEST_APPID, secret=TEST_SECRET,
                          timeout=2)
    api = WeChatApi(http, base_url=settings.wechat.base_url, tokens=tokens, timeout=2)
    kwargs = {"clock": clock} if clock else {}
    return OutboxWorker(db, settings, {"test": api}, **kwargs)


async def queue(db, community_id, openid, text, *, now=None, notice_kind="reply", kind="text", payload=None,
                log=False) -> int:
    now = now or datetime.now(timezone.utc)
    async with db.sessions.begin() as session:
        outbox_id = await outbox.enqueue(session, community_id=community_id, account="test", openid=openid,
                                         kind=kind, payload=payload or {"content": text}, now=now,
                                         notice_kind=notice_kind)
        if log:
            await message_log.log_outbound(session, community_id=community_id, openid=openid, now=now,
                                           msg_type="text", content=text, delivery="customer_service",
                                           outbox_id=outbox_id)
    return outbox_id


async def row(db, outbox_id) -> OutboxMessage:
    async with db.sessions() as session:
        return await session.get(OutboxMessage, outbox_id)


def texts(fake, openid):
    return [item.get("content") for item in fake.sent_to(openid)]


async def test_queued_text_arrives(db, settings, http, fake_wechat, community_id):
    outbox_id = await queue(db, community_id, "o_a", "您的报修已受理，工单号 W001")
    worker = make_worker(db, settings, http)
    assert await worker.drain() == 1
    assert texts(fake_wechat, "o_a") == ["您的报修已受理，工单号 W001"]
    sent = await row(db, outbox_id)
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1
    assert await worker.drain() == 0


async def test_every_kind_is_sent(db, settings, http, fake_wechat, community_id):
    await queue(db, community_id, "o_a", None, kind="image", payload={"media_id": "M1"})
    await queue(db, community_id, "o_b", None, kind="template",
                payload={"template_id": "T1", "data": {"first": {"value": "提醒"}}, "url": "https://x/y"})
    await queue(db, community_id, "o_c", None, kind="subscribe",
                payload={"template_id": "S1", "data": {"thing1": {"value": "活动"}}, "page": "p/1"})
    await make_worker(db, settings, http).drain()
    assert fake_wechat.sent_to("o_a")[0]["media_id"] == "M1"
    assert fake_wechat.sent_to("o_b")[0]["template_id"] == "T1"
    assert fake_wechat.sent_to("o_b")[0]["url"] == "https://x/y"
    assert fake_wechat.sent_to("o_c")[0]["page"] == "p/1"


async def test_unreachable_retries_with_backoff_then_delivers_in_order(db, settings, http, fake_wechat,
                                                                       community_id, clock):
    ids = [await queue(db, community_id, "o_a", f"第{i}条", now=clock.now) for i in range(1, 4)]
    other = await queue(db, community_id, "o_b", "给B", now=clock.now)
    worker = make_worker(db, settings, http, clock)
    fake_wechat.unreachable = True
    assert await worker.drain() == 2  # only the oldest row of each resident is claimable
    first = await row(db, ids[0])
    assert first.status == "pending" and first.attempts == 1
    assert first.next_attempt_at == clock.now + timedelta(seconds=0.05)
    assert "HTTP 503" in first.last_error
    assert await worker.drain() == 0  # backing off
    clock.advance(0.05)
    assert await worker.drain() == 2
    assert (await row(db, ids[0])).next_attempt_at == clock.now + timedelta(seconds=0.1)
    fake_wechat.unreachable = False
    clock.advance(0.1)
    assert await worker.drain() == 4
    assert texts(fake_wechat, "o_a") == ["第1条", "第2条", "第3条"]
    assert texts(fake_wechat, "o_b") == ["给B"]
    assert (await row(db, ids[0])).attempts == 3 and (await row(db, other)).status == "sent"


async def test_window_closed_falls_back_to_template(db, settings, http, fake_wechat, community_id):
    fake_wechat.outside_window.add("o_far")
    outbox_id = await queue(db, community_id, "o_far", None, log=True,
                            payload={"content": "您的工单已办结", "title": "工单进展"})
    await make_worker(db, settings, http).drain()
    [item] = fake_wechat.sent_to("o_far")
    assert item["kind"] == "template" and item["template_id"] == "TPL_REPLY"
    assert item["data"] == {"first": {"value": "工单进展"}, "keyword1": {"value": "您的工单已办结"}}
    assert "/cgi-bin/message/template/send" in fake_wechat.paths()
    sent = await row(db, outbox_id)
    assert sent.status == "sent" and sent.kind == "template"
    assert sent.payload["fallback_from"]["kind"] == "text"
    async with db.sessions() as session:
        deliveries = (await session.scalars(select(MessageLog.delivery).where(MessageLog.outbox_id == outbox_id))).all()
    assert deliveries == ["template"]


async def test_window_closed_without_template_is_recorded_as_failed(db, settings, http, fake_wechat, community_id):
    fake_wechat.outside_window.add("o_far")
    outbox_id = await queue(db, community_id, "o_far", "明天上午9点活动", notice_kind="reminder", log=True)
    await make_worker(db, settings, http).drain()
    failed = await row(db, outbox_id)
    assert failed.status == "failed" and failed.attempts == 1
    assert "outside 48-hour window and no template for reminder" in failed.last_error
    assert fake_wechat.sent == []


async def test_template_fallback_retries_as_template(db, settings, http, fake_wechat, community_id, clock):
    fake_wechat.outside_window.add("o_far")
    fake_wechat.fail_next("/message/template/send", -1)
    outbox_id = await queue(db, community_id, "o_far", "内容", now=clock.now)
    worker = make_worker(db, settings, http, clock)
    await worker.drain()
    pending = await row(db, outbox_id)
    assert pending.status == "pending" and pending.kind == "template"
    clock.advance(1)
    await worker.drain()
    assert [item["kind"] for item in fake_wechat.sent_to("o_far")] == ["template"]
    assert (await row(db, outbox_id)).status == "sent"


async def test_max_attempts_then_failed(db, db_url, http, fake_wechat, community_id, clock):
    settings = make_settings(db_url, fake_wechat.base_url, outbox={"max_attempts": 2})
    outbox_id = await queue(db, community_id, "o_a", "hi", now=clock.now)
    later = await queue(db, community_id, "o_a", "next", now=clock.now)
    worker = make_worker(db, settings, http, clock)
    fake_wechat.fail_next("/message/custom/send", 45009, times=2)
    await worker.drain()
    clock.advance(1)
    await worker.drain()
    failed = await row(db, outbox_id)
    assert failed.status == "failed" and failed.attempts == 2
    assert failed.last_error.startswith("gave up after 2 attempts") and "45009" in failed.last_error
    assert texts(fake_wechat, "o_a") == ["next"]  # a failed row no longer blocks the resident's queue
    assert (await row(db, later)).status == "sent"


@pytest.mark.parametrize("errcode", [43004, 40003])
async def test_permanent_errors_fail_at_once(db, settings, http, fake_wechat, community_id, errcode):
    fake_wechat.fail_next("/message/custom/send", errcode)
    outbox_id = await queue(db, community_id, "o_gone", "hi")
    await make_worker(db, settings, http).drain()
    failed = await row(db, outbox_id)
    assert failed.status == "failed" and failed.attempts == 1 and str(errcode) in failed.last_error


async def test_malformed_row_fails_without_sending(db, settings, http, fake_wechat, community_id):
    outbox_id = await queue(db, community_id, "o_a", None, kind="text", payload={"text": "wrong key"})
    await make_worker(db, settings, http).drain()
    failed = await row(db, outbox_id)
    assert failed.status == "failed" and "'content'" in failed.last_error


async def test_cancelled_rows_are_not_sent(db, settings, http, fake_wechat, community_id):
    outbox_id = await queue(db, community_id, "o_left", "hi")
    async with db.sessions.begin() as session:
        assert await outbox.cancel_pending(session, account="test", openid="o_left") == 1
    assert await make_worker(db, settings, http).drain() == 0
    assert fake_wechat.sent == [] and (await row(db, outbox_id)).status == "cancelled"


async def test_expired_sending_lease_is_reclaimed(db, settings, http, fake_wechat, community_id, clock):
    stuck = await queue(db, community_id, "o_a", "crashed mid-send", now=clock.now)
    held = await queue(db, community_id, "o_b", "another worker is on it", now=clock.now)
    behind = await queue(db, community_id, "o_b", "waits its turn", now=clock.now)
    async with db.sessions.begin() as session:
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == stuck)
                              .values(status="sending", attempts=1, claimed_until=clock.now - timedelta(seconds=1)))
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == held)
                              .values(status="sending", attempts=1, claimed_until=clock.now + timedelta(seconds=30)))
    worker = make_worker(db, settings, http, clock)
    assert await worker.drain() == 1
    assert texts(fake_wechat, "o_a") == ["crashed mid-send"]
    assert (await row(db, stuck)).attempts == 2
    assert fake_wechat.sent_to("o_b") == [] and (await row(db, behind)).status == "pending"
    clock.advance(31)
    assert await worker.drain() == 2
    assert texts(fake_wechat, "o_b") == ["another worker is on it", "waits its turn"]


async def test_two_workers_send_each_message_exactly_once(db, db_url, settings, http, fake_wechat, community_id):
    for i in range(30):
        await queue(db, community_id, f"o_{i % 6}", f"消息{i}")
    other_db = Database(db_url)
    try:
        fake_wechat.delay = 0.005
        first, second = make_worker(db, settings, http), make_worker(other_db, settings, http)
        counts = await asyncio.gather(first.drain(), second.drain())
    finally:
        await other_db.dispose()
    assert sum(counts) == 30
    contents = [item["content"] for item in fake_wechat.sent]
    assert sorted(contents) == sorted(f"消息{i}" for i in range(30))
    for r in range(6):
        assert texts(fake_wechat, f"o_{r}") == [f"消息{i}" for i in range(r, 30, 6)]


async def test_run_wakes_on_enqueue_and_stops(db, settings, http, fake_wechat, community_id):
    worker = make_worker(db, settings, http)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.01)
    await queue(db, community_id, "o_a", "马上到")
    worker.wake()
    for _ in range(100):
        if fake_wechat.sent:
            break
        await asyncio.sleep(0.01)
    assert texts(fake_wechat, "o_a") == ["马上到"]
    await worker.stop()
    assert task.done()


async def test_run_survives_errors_and_picks_up_retries(db, settings, http, fake_wechat, community_id):
    fake_wechat.fail_next("/message/custom/send", -1)
    await queue(db, community_id, "o_a", "busy first")
    worker = make_worker(db, settings, http)
    task = asyncio.create_task(worker.run())
    for _ in range(100):
        if fake_wechat.sent:
            break
        await asyncio.sleep(0.01)
    await worker.stop()
    assert task.done() and texts(fake_wechat, "o_a") == ["busy first"]


def test_backoff_is_exponential_and_capped():
    assert [backoff_seconds(n, 2, 600) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff_seconds(20, 2, 600) == 600


async def test_token_refused_is_retried_not_failed(db, settings, http, fake_wechat, community_id):
    fake_wechat.fail_next("/stable_token", 40164)  # server IP not in the whitelist
    outbox_id = await queue(db, community_id, "o_a", "hi")
    await make_worker(db, settings, http).drain()
    pending = await row(db, outbox_id)
    assert pending.status == "pending" and "40164" in pending.last_error


async def test_a_claim_too_close_to_its_lease_end_is_given_back_not_sent(db, settings, http, fake_wechat,
                                                                         community_id, clock):
    """An overloaded worker must not send a row another worker may already be allowed to take."""
    worker = make_worker(db, settings, http, clock)
    await queue(db, community_id, "o_late", "迟到的回复", now=clock())
    [row] = await worker._claim()
    clock.advance(settings.outbox.claim_lease_seconds - 1)  # the batch waited that long behind others
    await worker._deliver(row)
    assert fake_wechat.sent_to("o_late") == []
    async with db.sessions() as session:
        status, attempts = (await session.execute(select(OutboxMessage.status, OutboxMessage.attempts))).one()
    assert (status, attempts) == ("pending", 0)  # due at once, the attempt not counted
    assert await worker.drain() == 1 and [m["content"] for m in fake_wechat.sent_to("o_late")] == ["迟到的回复"]
