"""Escalated threads: hand-off from chat, the staff list, taking over, answering, closing, the live
stream, the two-misunderstandings rule and the office-hours note."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from bot import texts
from bot.texts import handoff as handoff_texts
from storage.models import Conversation, Resident
from storage.staff_models import StaffAudit, ThreadClaim
from tests.console.conftest import logged_in


@pytest.fixture
def wechat(app_client, settings):
    from tests.wechat_client import WeChatClient

    return WeChatClient(app_client, settings.accounts[0])


async def conversation(db, openid: str) -> Conversation | None:
    async with db.sessions() as session:
        return await session.scalar(select(Conversation).join(Resident, Resident.id == Conversation.resident_id)
                                    .where(Resident.openid == openid))


async def test_handed_off_thread_is_listed_for_staff_in_reach(wechat, console, new_console, place):
    chat = wechat.resident("o_zhang")
    assert await chat.say("转人工") == texts.HANDOFF_STARTED
    assert await chat.say("我家水管坏了，<b>急</b>") is None  # the bot stays quiet
    await logged_in(console, "staff")
    listing = await console.page("/console/threads")
    assert "张建国" in listing and "我家水管坏了，&lt;b&gt;急&lt;/b&gt;" in listing and "待接管" in listing
    grid1 = await logged_in(await new_console(), "grid1")
    assert "张建国" in await grid1.page("/console/threads")  # 3栋 is in 第一网格
    wang = wechat.resident("o_wang")
    await wang.say("转人工")
    assert "王志强" not in await grid1.page("/console/threads")  # 6栋 is not
    await grid1.page(f"/console/threads/{place.residents['o_wang']}", status=404)
    assert "王志强" in await console.page("/console/threads")
    street = await logged_in(await new_console(), "street")
    await street.page("/console/threads", status=403)


async def test_take_over_answer_and_close(wechat, console, place, db, worker, fake_wechat, clock):
    chat = wechat.resident("o_zhang")
    await chat.say("转人工")
    await chat.say("物业费怎么交")
    await logged_in(console, "staff")
    resident_id = place.residents["o_zhang"]
    page = await console.page(f"/console/threads/{resident_id}")
    assert "物业费怎么交" in page and "接管会话" in page and 'data-live="/console/threads/' in page
    assert (await console.post(f"/console/threads/{resident_id}/take")).status == 303
    clock.advance(minutes=30)
    reply = await console.post(f"/console/threads/{resident_id}/reply", {"text": "您好，可以在物业中心或线上缴纳。",
                                                                         "form_key": "k1"})
    assert reply.status == 303
    await worker.drain()
    assert [m["content"] for m in fake_wechat.sent_to("o_zhang") if m["kind"] == "text"] == ["您好，可以在物业中心或线上缴纳。"]
    row = await conversation(db, "o_zhang")
    assert row.handoff and row.handoff_active_at == clock.now  # the silence timeout starts again
    page = await console.page(f"/console/threads/{resident_id}")
    assert "您好，可以在物业中心或线上缴纳。" in page and "已送达微信" in page and "STAFF已接管" in page
    closed = await console.post(f"/console/threads/{resident_id}/close")
    assert closed.status == 303 and closed.headers["Location"] == "/console/threads?done=closed"
    await worker.drain()
    assert fake_wechat.sent_to("o_zhang")[-1]["content"] == handoff_texts.CLOSED_BY_STAFF
    assert not (await conversation(db, "o_zhang")).handoff
    assert await chat.say("你好") == texts.GREETING  # the bot answers again
    async with db.sessions() as session:
        assert await session.scalar(select(ThreadClaim)) is None
        actions = [a.action for a in await session.scalars(select(StaffAudit).order_by(StaffAudit.id))]
    assert actions == ["login", "thread.take", "thread.reply", "thread.close"]
    again = await console.post(f"/console/threads/{resident_id}/close")
    assert again.status == 409 and "不在人工服务中" in await again.text()


async def test_no_answer_to_a_thread_not_with_staff(wechat, console, place, db):
    await wechat.resident("o_zhang").say("你好")
    await logged_in(console, "staff")
    resident_id = place.residents["o_zhang"]
    response = await console.post(f"/console/threads/{resident_id}/reply", {"text": "你好"})
    assert response.status == 409 and "不在人工服务中" in await response.text()
    assert (await console.post(f"/console/threads/{resident_id}/take")).status == 409


async def _events(response, wanted: int) -> list[tuple[str, str]]:
    """Read SSE events until ``wanted`` have come (message, delivery or closed)."""
    events, name, data = [], None, []
    while len(events) < wanted:
        line = (await asyncio.wait_for(response.content.readline(), 10)).decode("utf-8").rstrip("\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "" and name:
            events.append((name, "\n".join(data)))
            name, data = None, []
    return events


async def test_live_stream_shows_new_messages_deliveries_and_closing(wechat, console, place, services, worker):
    services.settings.console.live_poll_seconds = 0.02
    chat = wechat.resident("o_zhang")
    await chat.say("转人工")
    await logged_in(console, "staff")
    resident_id = place.residents["o_zhang"]
    page = await console.page(f"/console/threads/{resident_id}")
    last = int(page.split('data-last="')[1].split('"')[0])
    stream = await console.get(f"/console/threads/{resident_id}/live?after={last}")
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    await chat.say("<script>alert(1)</script>楼下有人吵架")
    [(name, html)] = await _events(stream, 1)
    assert name == "message" and "&lt;script&gt;alert(1)&lt;/script&gt;楼下有人吵架" in html and "<script>" not in html
    await console.post(f"/console/threads/{resident_id}/reply", {"text": "马上派人去看看", "form_key": "k2"})
    [(name, html)] = await _events(stream, 1)
    assert name == "message" and "马上派人去看看" in html and "待发送" in html
    await worker.drain()
    states = []
    while not states or states[-1] != "sent":  # "sending" may be seen on the way
        [(name, data)] = await _events(stream, 1)
        assert name == "delivery"
        states.append(json.loads(data)["status"])
    assert set(states) <= {"sending", "sent"}
    await console.post(f"/console/threads/{resident_id}/close")
    names = [n for n, _ in await _events(stream, 2)]
    assert sorted(names) == ["closed", "message"]  # the resident's "service ended" message, then closed
    stream.close()


async def test_live_stream_resumes_after_last_event_id(wechat, console, place, services):
    services.settings.console.live_poll_seconds = 0.02
    chat = wechat.resident("o_zhang")
    await chat.say("转人工")
    await chat.say("第一条")
    await chat.say("第二条")
    await logged_in(console, "staff")
    resident_id = place.residents["o_zhang"]
    first = await console.get(f"/console/threads/{resident_id}/live?after=0")
    [(_, html)] = await _events(first, 1)
    first.close()
    assert "转人工" in html
    seen = html.split('id="m')[1].split('"')[0]
    stream = await console.get(f"/console/threads/{resident_id}/live", headers={"Last-Event-ID": seen})
    rest = [html for _, html in await _events(stream, 3)]
    stream.close()
    assert "转接社区工作人员" in rest[0] and "第一条" in rest[1] and "第二条" in rest[2]


async def test_live_stream_needs_reach(console, new_console, place, wechat):
    await wechat.resident("o_wang").say("转人工")
    grid1 = await logged_in(await new_console(), "grid1")
    response = await grid1.get(f"/console/threads/{place.residents['o_wang']}/live")
    assert response.status == 404
    anonymous = await console.get(f"/console/threads/{place.residents['o_wang']}/live")
    assert anonymous.status == 401


async def test_two_misunderstandings_in_a_row_hand_off(wechat, db):
    chat = wechat.resident("o_puzzled")
    first = await chat.say("asdfgh")
    assert first == texts.OTHER
    assert await chat.say("qwerty") == handoff_texts.AUTO_HANDOFF
    row = await conversation(db, "o_puzzled")
    assert row.handoff and row.misunderstood == 0
    assert await chat.say("zxcvb") is None  # now with staff: the bot is quiet


async def test_an_understood_message_resets_the_count(wechat, db):
    chat = wechat.resident("o_half")
    assert await chat.say("asdfgh") == texts.OTHER
    assert await chat.say("我的工单") != handoff_texts.AUTO_HANDOFF
    assert await chat.say("asdfgh") == texts.OTHER
    assert not (await conversation(db, "o_half")).handoff
    assert (await conversation(db, "o_half")).misunderstood == 1


async def test_asking_back_twice_hands_off(wechat, db):
    chat = wechat.resident("o_unsure")
    assert (await chat.say("老人")).startswith("我不太确定您的意思")
    assert await chat.say("老人") == handoff_texts.AUTO_HANDOFF
    row = await conversation(db, "o_unsure")
    assert row.handoff and row.state is None


@pytest.fixture
def settings(db_url, fake_wechat):
    from tests.console.conftest import console_settings

    return console_settings(db_url, fake_wechat.base_url, console={"cookie_secure": False,
                                                                   "office_hours": ["08:30-12:00", "14:30-17:30"]})


async def test_outside_office_hours_the_resident_is_told_when(wechat, clock):
    clock.now = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)  # 20:00 in Shanghai
    reply = await wechat.resident("o_night").say("转人工")
    assert reply == texts.HANDOFF_STARTED + "\n" + handoff_texts.OFF_HOURS.format(when="明天8:30")
    clock.now = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)  # 10:00: open
    assert await wechat.resident("o_day").say("转人工") == texts.HANDOFF_STARTED


async def test_the_list_shows_where_residents_live_and_names_non_text(wechat, console, place):
    chat = wechat.resident("o_zhang")
    await chat.say("转人工")
    await chat.send("image", {"PicUrl": "http://127.0.0.1:9/p.jpg", "MediaId": "m1"})
    await wechat.resident("o_new").say("转人工")  # a resident nobody has registered yet
    await logged_in(console, "staff")
    listing = await console.page("/console/threads")
    assert "张建国" in listing and "3栋2单元502" in listing and "[照片]" in listing and "[image]" not in listing
    assert "未登记居民" in listing and "住址未登记" in listing
    assert 'hx-trigger="every 5s"' in listing


async def test_the_list_refreshes_itself_as_a_fragment(wechat, console, place):
    await logged_in(console, "staff")
    empty = await console.get("/console/threads", headers={"HX-Request": "true"})
    body = await empty.text()
    assert empty.status == 200 and "<html" not in body and "目前没有等待人工的会话" in body
    await wechat.resident("o_wang").say("转人工")
    body = await (await console.get("/console/threads", headers={"HX-Request": "true"})).text()
    assert "王志强" in body and "6栋1单元602" in body and "<html" not in body


async def test_long_threads_page_back_to_earlier_messages(wechat, console, place, db, services):
    from storage.message_log import log_outbound
    from storage.staff import replies

    resident_id = place.residents["o_zhang"]
    async with db.sessions.begin() as session:
        for n in range(replies.PAGE + 5):
            await log_outbound(session, community_id=place.community_id, openid="o_zhang", now=services.clock(),
                               msg_type="text", content=f"第{n}条", delivery="passive")
    await wechat.resident("o_zhang").say("转人工")
    await logged_in(console, "staff")
    page = await console.page(f"/console/threads/{resident_id}")
    # 207 lines (205 here, "转人工" and its answer): the latest 200 are 第7条 … and the chat
    assert "第7条<" in page and "第6条<" not in page and "更早的消息" in page and "data-live=" in page
    earlier = page.split('class="earlier"><a href="?')[1].split('"')[0]
    older = await console.page(f"/console/threads/{resident_id}?{earlier.replace('&amp;', '&')}")
    assert "第0条<" in older and "第6条<" in older and "第7条<" not in older and "转人工" not in older
    assert "更早的消息" not in older and "回到最新消息" in older and "data-live=" not in older
