"""Two server processes and two scheduler processes on one PostgreSQL, every message delivered
three times to different servers at once: one handler run, one ticket, one message to the
resident per reply, one reminder sent.

All four are real processes started from the CLI with a config file written here; the fake
WeChat API runs in the test on loopback. In production `linli serve --workers N` puts every
worker on one port and the kernel spreads connections over them, so a test could not say which
worker gets a delivery; here the two servers listen on two ports, which is how the test sends
each copy of a message to the process it chooses (copies 1 and 3 to one, copy 2 to the other).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import aiohttp
from sqlalchemy import func, select

from bot.texts import tickets as t
from bot.wechat.fake_api import FakeWeChat
from storage import communities, reminders
from storage.db import Database
from storage.models import MessageLog, OutboxMessage, ProcessedMessage
from storage.reminders import Due
from storage.ticket_models import Ticket
from tests.production.processes import free_port, until, wait_ready, wechat_for, write_config

OPENID = "o_cross_process"
DIALOG = ["3栋2单元楼道灯坏了", "跳过", "跳过", "确认"]  # the repair, no photo, no phone, confirm
REMINDER = "【提醒】明天上午9点楼道灯检修，请留意。"


async def test_two_servers_and_two_schedulers_do_everything_once(processes, pg_url, tmp_path):
    fake = FakeWeChat()
    await fake.start()
    try:
        config = write_config(tmp_path, pg_url, fake.base_url, log={"level": "INFO"},
                              reminders={"interval_seconds": 0.3})
        servers = [processes.serve(f"server{i}", config, free_port(), "--no-scheduler") for i in (1, 2)]
        schedulers = [processes.start(f"scheduler{i}", "scheduler", "--config", str(config)) for i in (1, 2)]
        await asyncio.gather(*(wait_ready(server) for server in servers))
        for scheduler in schedulers:
            await until(lambda s=scheduler: "scheduler running" in s.output(), 60, "scheduler not started", scheduler)

        async with aiohttp.ClientSession() as http:
            wechat = [wechat_for(config, http, server.port) for server in servers]
            replies = [await _deliver_thrice(wechat, text, f"88000{n}") for n, text in enumerate(DIALOG, 1)]
        await _remind(pg_url)
        await until(lambda: _settled(pg_url), 30, "the outbox did not empty")
        await until(lambda: any(item.get("content") == REMINDER for item in fake.sent), 30, "no reminder sent")
        await until(lambda: _settled(pg_url), 30, "the outbox did not empty")

        ticket_number = await _one_ticket(pg_url)
        assert await _rows(pg_url) == [(f"88000{n}", 1, 1, "done") for n in range(1, 5)]
        late = [item["content"] for item in fake.sent_to(OPENID) if item["kind"] == "text"]
        passive = [texts.pop() for texts in replies if texts]
        assert sorted(passive + late) == sorted(set(passive + late))  # nothing twice
        assert len(passive) + len(late) == len(DIALOG) + 1  # one message per reply, plus the reminder
        assert late.count(REMINDER) == 1
        said = passive + late
        assert any(t.ASK_PHOTO in s for s in said) and any(s.startswith(f"已提交，工单号 {ticket_number}") for s in said)
    finally:
        await fake.stop()


async def _deliver_thrice(wechat, text: str, msg_id: str) -> set[str]:
    """One message, three copies at once: to server 1, 2, 1. The passive replies WeChat could show."""
    xml = wechat[0].resident(OPENID).text_xml(text, msg_id=msg_id)
    deliveries = await asyncio.gather(*(wechat[i].deliver(xml) for i in (0, 1, 0)))
    assert all(d.status == 200 for d in deliveries)
    shown = {d.text for d in deliveries if d.text is not None}
    assert len(shown) <= 1, f"different answers to one message: {shown}"
    return shown


async def _remind(url: str) -> None:
    """A reminder due now: both schedulers' ticks race for it."""
    db = Database(url)
    try:
        now = datetime.now(timezone.utc)
        async with db.sessions.begin() as session:
            community = (await communities.ensure(session, [("test", "测试社区")]))["test"]
            await reminders.schedule(session, [Due(community, "note", "cross:1", "test", OPENID, now, key="cross:1",
                                                   payload={"title": "提醒", "content": REMINDER})], now=now)
    finally:
        await db.dispose()


async def _query(url: str, statement):
    db = Database(url)
    try:
        async with db.sessions() as session:
            return (await session.execute(statement)).all()
    finally:
        await db.dispose()


async def _settled(url: str) -> bool:
    """No outbox row waiting or being sent."""
    rows = await _query(url, select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.status.in_(("pending", "sending"))))
    return rows[0][0] == 0


async def _one_ticket(url: str) -> str:
    numbers = [number for (number,) in await _query(url, select(Ticket.number))]
    assert len(numbers) == 1, f"tickets: {numbers}"
    return numbers[0]


async def _rows(url: str) -> list[tuple]:
    """Per MsgId: inbound log rows, processed keys, and the key's status."""
    inbound = dict(await _query(url, select(MessageLog.wechat_msg_id, func.count()).where(MessageLog.direction == "in")
                                .group_by(MessageLog.wechat_msg_id)))
    keys = await _query(url, select(ProcessedMessage.dedup_key, ProcessedMessage.status))
    by_msg = {}
    for key, status in keys:
        msg_id = key.rsplit(":", 1)[-1]
        count, _ = by_msg.get(msg_id, (0, None))
        by_msg[msg_id] = (count + 1, status)
    return sorted((m, inbound.get(m, 0), *by_msg.get(m, (0, None))) for m in set(inbound) | set(by_msg))
