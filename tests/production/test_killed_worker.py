"""A server process killed with SIGKILL in the middle of a message: WeChat's retry, sent to the
other process, is handled there — once — and answered.

Both servers are real processes (tests/production/slow_server.py: the product's app with one
marker text that waits inside its handler). The first is killed only once it is provably inside
that handler (it wrote its ``started-<pid>`` file); its claim on the message stays 'running'
and its heartbeat row stops moving, so the retry to the second process takes the message over
as soon as the first has been silent for dedup.worker_silent_seconds (0.5 s here; 5 s by
default, within WeChat's retry 5 s after the first try).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.db import Database
from storage.models import MessageLog, ProcessedMessage
from tests.production.processes import free_port, until, wait_ready, wechat_for, write_config
from tests.production.slow_server import MARKER, answer

SLOW = "tests.production.slow_server"


async def test_a_retry_to_the_other_process_finishes_a_message_whose_process_was_killed(processes, pg_url,
                                                                                      tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    config = write_config(tmp_path, pg_url, "http://127.0.0.1:9",
                          dedup={"heartbeat_seconds": 0.2, "worker_silent_seconds": 0.5})
    first, second = (processes.serve(name, config, free_port(), "--gate", str(gate), module=SLOW)
                     for name in ("first", "second"))
    await asyncio.gather(wait_ready(first), wait_ready(second))

    async with aiohttp.ClientSession() as http:
        xml = wechat_for(config, http, first.port).resident("o_killed").text_xml(MARKER, msg_id="7700001")
        attempt = asyncio.create_task(wechat_for(config, http, first.port).deliver(xml))
        await until(lambda: (gate / f"started-{first.pid}").exists(), 20, "the first process never got the message",
                    first)
        first.kill()
        with pytest.raises(aiohttp.ClientError):  # WeChat sees the connection drop
            await attempt
        (gate / "release").touch()
        retry = await wechat_for(config, http, second.port).deliver(xml)
        last = await wechat_for(config, http, second.port).deliver(xml)  # WeChat's third try

    assert retry.status == 200 and retry.text == answer(MARKER)
    assert last.status == 200 and last.text == answer(MARKER)
    assert _completions(gate) == [second.pid]  # one handler completion, in the survivor
    assert (gate / f"started-{second.pid}").exists()  # the survivor ran the handler itself: it adopted the message
    rows = await _rows(pg_url, "7700001")
    assert rows == {"in": 1, "out": 1, "keys": 1, "done": 1}
    assert (await _worker_of(pg_url)).split(":")[1] == str(second.pid)


def _completions(gate: Path) -> list[int]:
    path = gate / "completed"
    return [int(line) for line in path.read_text().split()] if path.exists() else []


async def _rows(url: str, msg_id: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.sessions() as session:
            logged = dict((await session.execute(select(MessageLog.direction, func.count())
                                                 .group_by(MessageLog.direction))).all())
            inbound = await session.scalar(select(func.count()).select_from(MessageLog)
                                           .where(MessageLog.wechat_msg_id == msg_id, MessageLog.direction == "in"))
            keys = await session.scalar(select(func.count()).select_from(ProcessedMessage))
            done = await session.scalar(select(func.count()).select_from(ProcessedMessage)
                                        .where(ProcessedMessage.status == "done"))
    finally:
        await db.dispose()
    return {"in": inbound, "out": logged.get("out", 0), "keys": keys, "done": done}


async def _worker_of(url: str) -> str:
    db = Database(url)
    try:
        async with db.sessions() as session:
            return await session.scalar(select(ProcessedMessage.worker))
    finally:
        await db.dispose()
