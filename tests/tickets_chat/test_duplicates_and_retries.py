"""Duplicates (§7) — join the open ticket or file anyway — and WeChat's retries of 确认."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select, update

from bot.texts import tickets as t
from storage import tickets
from storage.models import Conversation, ProcessedMessage
from tests.tickets_chat.conftest import all_tickets, conversation, dialog_state, only_ticket, outbox_to

TO_SUMMARY = ["楼道灯坏了", "是", "跳过", "跳过"]


async def _file_first(wechat) -> None:
    await conversation(wechat.resident("o_zhang"), *TO_SUMMARY, "确认")


async def test_second_resident_joins_and_both_hear_the_next_update(wechat, db, place, services, clock, worker,
                                                                    fake_wechat):
    await _file_first(wechat)
    first = await only_ticket(db)
    neighbour = wechat.resident("o_li")
    await conversation(neighbour, "楼道灯坏了", "是")
    await neighbour.send("image", {"PicUrl": "http://example.invalid/dark.jpg", "MediaId": "media_dark"})
    offer = (await conversation(neighbour, "跳过", "确认"))[-1]
    assert offer == t.DUPLICATE_FOUND.format(number=first.number, label="3栋·照明")
    assert await neighbour.say("1") == t.JOINED.format(number=first.number)
    assert await dialog_state(db, "o_li") is None

    ticket = await only_ticket(db)  # no second ticket, and the neighbour's photo is on this one
    assert [a.media_id for a in ticket.attachments] == ["media_dark"]
    assert sorted(r.resident_id for r in ticket.reporters) == sorted([first.reporter_resident_id,
                                                                      _resident_id(ticket, exclude=first)])
    assert first.number in await neighbour.say("我的工单")  # a joined ticket is the neighbour's too

    clock.advance(hours=3)
    async with services.db.sessions.begin() as session:
        await tickets.transition(session, ticket_id=ticket.id, to="resolved", actor=tickets.Actor("staff", name="王芳"),
                                 now=clock(), settings=services.settings, note="已更换灯泡")
    await worker.drain()
    for openid in ("o_zhang", "o_li"):
        assert [m.notice_kind for m in await outbox_to(db, openid, "ticket_status")] == ["ticket_status"]
        assert any(first.number in m.get("content", "") and "已处理完成" in m.get("content", "")
                   for m in fake_wechat.sent_to(openid)), openid


def _resident_id(ticket, *, exclude) -> int:
    return next(r.resident_id for r in ticket.reporters if r.resident_id != exclude.reporter_resident_id)


async def test_joining_twice_says_so(wechat, db, place):
    await _file_first(wechat)
    number = (await only_ticket(db)).number
    chat = wechat.resident("o_zhang")
    assert (await conversation(chat, *TO_SUMMARY, "确认"))[-1].startswith(f"附近已有同类工单 {number}")
    assert await chat.say("加入关注") == t.ALREADY_JOINED.format(number=number)


async def test_second_resident_may_still_file_separately(wechat, db, place):
    await _file_first(wechat)
    neighbour = wechat.resident("o_li")
    await conversation(neighbour, *TO_SUMMARY, "确认")
    assert await neighbour.say("随便") == t.DUPLICATE_UNCLEAR
    filed = await neighbour.say("2")
    rows = await all_tickets(db)
    assert len(rows) == 2 and filed.startswith(f"已提交，工单号 {rows[1].number}")
    assert rows[1].number == "20261123-0002"


async def test_cancel_at_the_duplicate_question(wechat, db, place):
    await _file_first(wechat)
    neighbour = wechat.resident("o_li")
    await conversation(neighbour, *TO_SUMMARY, "确认")
    assert await neighbour.say("取消") == t.CANCELLED.format(kind="报修")
    assert len(await all_tickets(db)) == 1 and len((await only_ticket(db)).reporters) == 1


async def test_a_different_building_is_no_duplicate(wechat, db, place):
    await _file_first(wechat)
    other = wechat.resident("o_new")
    filed = (await conversation(other, "4栋楼道灯坏了", "跳过", "跳过", "确认"))[-1]
    assert filed.startswith("已提交，工单号 20261123-0002")


async def test_redelivered_confirmation_files_one_ticket(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *TO_SUMMARY)
    confirm = chat.text_xml("确认", msg_id="880001")
    first = await wechat.deliver(confirm)
    again = await wechat.deliver(confirm)
    assert first.text.startswith("已提交") and again.text == first.text
    assert len(await all_tickets(db)) == 1


async def test_concurrent_deliveries_of_the_confirmation_file_one_ticket(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *TO_SUMMARY)
    confirm = chat.text_xml("确认", msg_id="880002")
    replies = await asyncio.gather(*(wechat.deliver(confirm) for _ in range(3)))
    assert all(r.status == 200 for r in replies)
    ticket = await only_ticket(db)
    assert {r.text for r in replies if r.text} == {t.FILED.format(number=ticket.number,
                                                                  expected=tickets.expected_date_text(ticket))}


async def test_a_confirmation_seen_again_after_its_key_was_forgotten_files_nothing_new(wechat, db, place):
    """Belt and braces: even if the delivery key were purged and the form still open, the
    ticket's source key (the message's MsgId) makes filing again a no-op."""
    chat = wechat.resident("o_zhang")
    await conversation(chat, *TO_SUMMARY)
    async with db.sessions() as session:
        form = await session.scalar(select(Conversation))
        state, data, expires_at = form.state, dict(form.data), form.expires_at
    confirm = chat.text_xml("确认", msg_id="880003")
    first = await wechat.deliver(confirm)
    async with db.sessions.begin() as session:
        await session.execute(delete(ProcessedMessage).where(ProcessedMessage.dedup_key == "m:880003"))
        await session.execute(update(Conversation).values(state=state, data=data, expires_at=expires_at))
    again = await wechat.deliver(confirm)
    assert again.text == first.text
    assert len(await all_tickets(db)) == 1
