"""No raw English codes or aiohttp English text in the console: error pages for every HTTP error
and for failures, names for audit actions and targets, points actions, message types, deadline
rules."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from bot.console import render
from bot.texts import console as texts
from tests.console.conftest import logged_in, make_ticket

ROOT = Path(__file__).resolve().parents[2]


async def test_a_wrong_method_is_a_chinese_page(console, place):
    await logged_in(console, "staff")
    response = await console.get("/console/logout")
    body = await response.text()
    assert response.status == 405 and texts.HTTP_ERRORS[405] in body and "Method Not Allowed" not in body
    assert "POST" in response.headers["Allow"]
    assert response.headers["X-Frame-Options"] == "DENY"  # still with the console's headers


async def test_an_unknown_page_is_a_chinese_page(console, place):
    await logged_in(console, "staff")
    response = await console.get("/console/no/such/page")
    assert response.status == 404 and texts.NOT_FOUND in await response.text()


async def test_a_failure_is_logged_and_shown_as_a_chinese_page(console, place, monkeypatch, caplog):
    from storage.staff import directory

    async def broken(*_args, **_kw):
        raise RuntimeError("database on fire")
    monkeypatch.setattr(directory, "faq_entries", broken)
    await logged_in(console, "staff")
    with caplog.at_level(logging.ERROR, logger="linli.console"):
        response = await console.get("/console/manage/faq")
    body = await response.text()
    assert response.status == 500 and texts.SERVER_ERROR in body
    assert "database on fire" not in body and "Traceback" not in body and "Internal Server Error" not in body
    assert any("GET /console/manage/faq failed" in r.getMessage() and r.exc_info for r in caplog.records)


async def test_audit_rows_name_what_they_are_about(console, place, app_client, settings):
    from tests.wechat_client import WeChatClient

    await WeChatClient(app_client, settings.accounts[0]).resident("o_zhang").say("转人工")
    await logged_in(console, "admin")
    await console.post(f"/console/threads/{place.residents['o_zhang']}/take")
    await console.post("/console/manage/faq", {"question": "物业电话", "answer": "0710-1234567", "enabled": "1"})
    page = await console.page("/console/manage/audit")
    assert "居民 张建国" in page and "常见问题 物业电话" in page and "接管会话" in page
    assert "resident:" not in page and "faq:" not in page


def test_every_audit_action_the_console_writes_has_a_name():
    written = set()
    for source in (ROOT / "bot/console").rglob("*.py"):
        written |= set(re.findall(r'audit\([^)]*?"([a-z_]+\.[a-z_]+|login|logout|export)"', source.read_text("utf-8"),
                                  re.S))
    assert {"thread.take", "grid.rename", "care.schedule", "staff.role", "template.save"} <= written
    assert written <= set(texts.AUDIT_ACTIONS), written - set(texts.AUDIT_ACTIONS)


def test_every_points_action_has_a_name_and_a_filter():
    written = set()
    for source in (ROOT / "storage/points").rglob("*.py"):
        written |= set(re.findall(r'action="([a-z_]+)"', source.read_text("utf-8")))
        written |= set(re.findall(r'"(item_(?:en|dis)able)"', source.read_text("utf-8")))
    assert {"adjust", "item_add", "order_pickup"} <= written
    assert written <= set(texts.POINTS_ACTIONS), written - set(texts.POINTS_ACTIONS)
    name = render._names(texts.POINTS_ACTIONS, texts.ACTION_OTHER)
    assert name("item_disable") == "下架商品" and name("something_new") == "其他操作"


def test_messages_are_named_in_chinese():
    from types import SimpleNamespace as Row

    assert render.message_text(Row(msg_type="image", content=None, label=None)) == "[照片]"
    assert render.message_text(Row(msg_type="location", content=None, label="3栋门口")) == "[位置] 3栋门口"
    assert render.message_text(Row(msg_type="voice", content=None, label=None)) == "[语音] （未识别）"
    assert render.message_text(Row(msg_type="event:click", content=None, label=None)) == "[点击菜单]"
    assert render.message_text(Row(msg_type="weird", content=None, label=None)) == "[其他消息]"
    assert render.message_text(Row(msg_type="text", content="你好", label=None)) == "你好"


async def test_the_deadline_rule_is_named_in_chinese(console, place, services):
    ticket = await make_ticket(services, place)
    await logged_in(console, "staff")
    page = await console.page(f"/console/tickets/{ticket.id}")
    assert "一般事项（24小时响应，7个工作日办结）" in page and "按规则定级：蓝色" in page
    assert "期限规则：general" not in page and "general" not in page.split("处理记录")[1]


async def test_a_tickets_long_thread_pages_back(console, place, services, db):
    from storage.message_log import log_outbound
    from storage.staff import replies

    ticket = await make_ticket(services, place)
    async with db.sessions.begin() as session:
        for n in range(replies.PAGE + 1):
            await log_outbound(session, community_id=place.community_id, openid="o_zhang", now=services.clock(),
                               msg_type="text", content=f"第{n}条", delivery="passive")
    await logged_in(console, "staff")
    page = await console.page(f"/console/tickets/{ticket.id}")
    assert "第200条" in page and "第0条<" not in page
    link = page.split('class="earlier"><a href="?')[1].split('"')[0].replace("&amp;", "&")
    assert f"who={place.residents['o_zhang']}" in link
    older = await console.page(f"/console/tickets/{ticket.id}?{link}")
    assert "第0条<" in older and "第200条" not in older and "回到最新消息" in older
