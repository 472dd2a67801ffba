"""The WeChat API failing, then unreachable, then back on the same port: every queued message is
delivered after recovery, once, in order per resident — with two server processes' outbox
workers sending at the same time (tests/test_outbox_worker.py covers the worker's rules on one
in-process worker with a fake clock; this is the production shape).

Phases, each ended by what the database shows rather than by a sleep:
1. the API answers errcode -1 (system busy) to every customer-service send: the first rows
   are tried and put back with a backoff, over and over;
2. the API's port is closed (connection refused) and more messages are queued meanwhile; a
   resident chatting still gets passive replies (they never touch the API);
3. the API comes back on the same port: everything goes out.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import aiohttp
from sqlalchemy import func, select

from bot.wechat.fake_api import FakeWeChat
from storage import communities, outbox
from storage.db import Database
from storage.models import OutboxMessage
from tests.production.processes import free_port, until, wait_ready, wechat_for, write_config

RESIDENTS = ["o_out_a", "o_out_b", "o_out_c"]


async def test_outbound_survives_errors_and_an_unreachable_api_in_order(processes, pg_url, tmp_path):
    fake = FakeWeChat()
    await fake.start()
    db = Database(pg_url)
    try:
        config = write_config(tmp_path, pg_url, fake.base_url, outbox={"max_attempts": 1000})
        servers = [processes.serve(f"server{i}", config, free_port(), "--no-scheduler") for i in (1, 2)]
        await asyncio.gather(*(wait_ready(server) for server in servers))
        community = await _community(db)

        fake.fail_next("/message/custom/send", -1, times=10**6)  # 1. failing
        await _queue(db, community, range(1, 4))
        await until(lambda: _tried(db, "errcode -1"), 30, "the failing API was not retried")

        await fake.stop()  # 2. unreachable
        fake.clear_failures()
        failing = await _heads(db)
        await _queue(db, community, range(4, 7))
        await until(lambda: _tried(db, "ClientConnectorError", failing), 30, "the unreachable API was not retried")
        async with aiohttp.ClientSession() as http:
            chat = wechat_for(config, http, servers[0].port).resident(RESIDENTS[0])
            assert (await chat.say("你好")).startswith("您好")

        await fake.start(port=fake.port)  # 3. back
        await until(lambda: _all_sent(db), 30, "not everything was delivered")
    finally:
        await db.dispose()
        await fake.stop()
    for openid in RESIDENTS:  # each once, in the order queued, across the outage
        assert [item["content"] for item in fake.sent_to(openid)] == [f"{openid} 第{n}条" for n in range(1, 7)]
    assert len(fake.sent) == 6 * len(RESIDENTS)


async def _community(db: Database) -> int:
    async with db.sessions.begin() as session:
        return (await communities.ensure(session, [("test", "测试社区")]))["test"]


async def _queue(db: Database, community: int, numbers) -> None:
    """Messages interleaved across residents, each in its own transaction, as producers write them."""
    for n in numbers:
        for openid in RESIDENTS:
            async with db.sessions.begin() as session:
                await outbox.enqueue(session, community_id=community, account="test", openid=openid, kind="text",
                                     payload={"content": f"{openid} 第{n}条"}, now=datetime.now(timezone.utc))


async def _heads(db: Database) -> dict[str, tuple[int, str]]:
    """Each resident's oldest unsent row that has been tried: (attempts, last error)."""
    async with db.sessions() as session:
        rows = (await session.execute(select(OutboxMessage.openid, OutboxMessage.attempts, OutboxMessage.last_error)
                                      .where(OutboxMessage.status == "pending", OutboxMessage.attempts >= 1)
                                      .order_by(OutboxMessage.id))).all()
    heads: dict[str, tuple[int, str]] = {}
    for openid, tries, last_error in rows:
        heads.setdefault(openid, (tries, last_error or ""))
    return heads


async def _tried(db: Database, error: str, more_than: dict[str, tuple[int, str]] | None = None) -> bool:
    """Every resident's head row last failed with ``error``, and twice more than in ``more_than``."""
    heads = await _heads(db)
    before = more_than or {}
    return len(heads) == len(RESIDENTS) and all(
        error in last and tries >= before.get(openid, (0, ""))[0] + 2 for openid, (tries, last) in heads.items())


async def _all_sent(db: Database) -> bool:
    async with db.sessions() as session:
        counts = dict((await session.execute(select(OutboxMessage.status, func.count())
                                             .group_by(OutboxMessage.status))).all())
    return counts == {"sent": 6 * len(RESIDENTS)}
