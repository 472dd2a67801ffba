"""One resident's messages are handled one at a time even when they land on different server
processes (storage.turns): the second waits for the first and sees the dialog it left."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from bot.app import create_app
from bot.dispatcher.router import Router
from bot.replies import Text
from storage.models import Resident, ServerWorker
from tests.conftest import make_settings
from tests.wechat_client import WeChatClient


def _router(started: asyncio.Event) -> Router:
    """"一" takes a while and leaves a step behind; "二" reports the step it finds."""
    router = Router("turns")

    @router.on(kind="text")
    async def handle(ctx):
        if ctx.text == "一":
            started.set()
            await asyncio.sleep(0.6)
            ctx.dialog.goto("asked", n=1)
            return Text("第一条")
        return Text(f"第二条看到：{ctx.dialog.state}")
    return router


async def _two_processes(aiohttp_client, db_url, fake_wechat, nlu_engine, started):
    """Two apps with their own engines and worker ids on one database, as two processes are."""
    settings = make_settings(db_url, fake_wechat.base_url)
    clients = [await aiohttp_client(create_app(settings, nlu=nlu_engine, router=_router(started), scheduler=False,
                                               outbox_worker=False)) for _ in range(2)]
    return [WeChatClient(client, settings.accounts[0]) for client in clients]


async def test_the_second_message_waits_for_the_first_on_another_process(aiohttp_client, db_url, fake_wechat,
                                                                         nlu_engine):
    started = asyncio.Event()
    one, two = await _two_processes(aiohttp_client, db_url, fake_wechat, nlu_engine, started)
    first = asyncio.create_task(one.resident("o_turns").say("一"))
    await started.wait()
    second = await two.resident("o_turns").say("二")
    assert await first == "第一条"
    assert second == "第二条看到：asked"  # not None: it waited, then read the dialog the first left


async def test_a_turn_held_by_a_dead_process_does_not_block(aiohttp_client, db_url, db, fake_wechat, nlu_engine):
    started = asyncio.Event()
    _, two = await _two_processes(aiohttp_client, db_url, fake_wechat, nlu_engine, started)
    await two.resident("o_dead").say("二")  # the resident exists
    now = datetime.now(timezone.utc)
    async with db.sessions.begin() as session:  # a process took the turn and was killed 30 s ago
        session.add(ServerWorker(id="gone:1:dead", started_at=now - timedelta(hours=1),
                                 seen_at=now - timedelta(seconds=30)))
        await session.flush()
        await session.execute(update(Resident).where(Resident.openid == "o_dead")
                              .values(busy_worker="gone:1:dead", busy_until=now + timedelta(seconds=25)))
    assert await asyncio.wait_for(two.resident("o_dead").say("二"), 3) == "第二条看到：None"


async def test_every_recorded_message_gives_the_turn_back(aiohttp_client, db_url, db, fake_wechat, nlu_engine):
    started = asyncio.Event()
    one, _ = await _two_processes(aiohttp_client, db_url, fake_wechat, nlu_engine, started)
    await one.resident("o_back").say("二")
    async with db.sessions() as session:
        busy = (await session.execute(select(Resident.busy_worker, Resident.busy_until)
                                      .where(Resident.openid == "o_back"))).one()
    assert tuple(busy) == (None, None)
