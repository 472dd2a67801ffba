"""`linli chat`: its command parsing, and a session against a real server on loopback."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot import texts
from bot.app import create_app
from bot.chat_cli import ChatSession, Quit, parse_line
from tests.conftest import late_router, make_settings


def test_plain_text_and_commands():
    assert parse_line("  ") is None
    assert (parse_line("楼道灯坏了").kind, parse_line("楼道灯坏了").content) == ("text", "楼道灯坏了")
    assert (parse_line("/voice 你好").kind, parse_line("/voice 你好").content) == ("voice", "你好")
    assert parse_line("/image").kind == "image"
    assert parse_line("/location 3栋楼下").label == "3栋楼下"
    assert parse_line("/subscribe building:3栋").scene == "building:3栋"
    assert parse_line("/subscribe").scene == ""
    assert parse_line("/unsubscribe").kind == "unsubscribe"
    assert parse_line("/click intent:repair").key == "intent:repair"


@pytest.mark.parametrize("line", ["/voice", "/click", "/nope", "/help"])
def test_bad_commands_explain_themselves(line):
    with pytest.raises(ValueError):
        parse_line(line)


def test_quit():
    with pytest.raises(Quit):
        parse_line("/quit")


async def _session(aiohttp_server, db_url, fake_wechat, nlu_engine, *, simulator=True, router=None, **server):
    settings = make_settings(db_url, fake_wechat.base_url, server={"simulator": simulator, **server})
    app_server = await aiohttp_server(create_app(settings, nlu=nlu_engine, scheduler=False, router=router))
    http = aiohttp.ClientSession()
    lines: list[str] = []
    session = ChatSession(http, settings, str(app_server.make_url("")), settings.accounts[0], "o_term", lines.append)
    return session, http, lines


async def test_a_line_gets_the_passive_reply(aiohttp_server, db_url, fake_wechat, nlu_engine):
    session, http, lines = await _session(aiohttp_server, db_url, fake_wechat, nlu_engine)
    try:
        await session.say("你好")
        await session.say("/subscribe building:3栋")
    finally:
        await http.close()
    assert lines[0] == f"邻里：{texts.GREETING}"
    assert "building:3栋" in lines[1]


@pytest.mark.parametrize("simulator", [True, False])  # through the server's inbox, or the fake directly
async def test_customer_service_messages_are_printed(aiohttp_server, db_url, fake_wechat, nlu_engine, simulator):
    session, http, lines = await _session(aiohttp_server, db_url, fake_wechat, nlu_engine, simulator=simulator,
                                          router=late_router(0.3), reply_deadline_seconds=0.05)
    try:
        fake_wechat._record("o_term", "text", content="旧消息")
        await session.poll()  # primes: what was there before the chat started is not shown
        await session.say("你好")  # too late for a passive reply: it goes through the outbox
        for _ in range(50):
            if await session.poll():
                break
            await asyncio.sleep(0.1)
    finally:
        await http.close()
    assert lines == [f"邻里（客服消息）：{texts.GREETING}"]
