"""Duplicates inside a flat need the same flat; who joins a neighbour's ticket sees its building
and category, never the neighbour's words or flat; a second red report of the same emergency
joins the first, so staff are alerted once."""

from __future__ import annotations

from sqlalchemy import select

from bot.texts import tickets as t
from storage.ticket_models import TicketEvent
from tests.tickets_chat.conftest import all_tickets, conversation, only_ticket, outbox_to

TO_SUMMARY = ["是", "跳过", "跳过"]


async def test_a_leak_in_another_flat_of_the_building_is_no_duplicate(wechat, db, place):
    await conversation(wechat.resident("o_zhang"), "厨房漏水了", *TO_SUMMARY, "确认")  # 3栋2单元502
    filed = (await conversation(wechat.resident("o_li"), "厨房漏水了", *TO_SUMMARY, "确认"))[-1]  # 3栋1单元301
    first, second = await all_tickets(db)
    assert filed.startswith(f"已提交，工单号 {second.number}")
    assert (first.room, second.room) == ("502", "301")


async def test_a_leak_in_the_same_flat_is_a_duplicate(wechat, db, place):
    await conversation(wechat.resident("o_zhang"), "厨房漏水了", *TO_SUMMARY, "确认")
    first = await only_ticket(db)
    offer = (await conversation(wechat.resident("o_new"), "3栋2单元502厨房漏水了", "跳过", "跳过", "确认"))[-1]
    assert offer == t.DUPLICATE_FOUND.format(number=first.number, label="3栋·渗漏")


async def test_a_stairwell_light_is_one_problem_for_the_whole_building(wechat, db, place):
    await conversation(wechat.resident("o_zhang"), "楼道灯坏了", *TO_SUMMARY, "确认")
    first = await only_ticket(db)
    offer = (await conversation(wechat.resident("o_li"), "楼道灯坏了", *TO_SUMMARY, "确认"))[-1]
    assert offer == t.DUPLICATE_FOUND.format(number=first.number, label="3栋·照明")


async def test_a_joiner_sees_building_category_status_and_deadline_only(wechat, db, place):
    await conversation(wechat.resident("o_zhang"), "我是张建国，502门口的楼道灯坏了", *TO_SUMMARY, "确认")
    first = await only_ticket(db)
    neighbour = wechat.resident("o_li")
    offer = (await conversation(neighbour, "楼道灯坏了", *TO_SUMMARY, "确认"))[-1]
    assert "张建国" not in offer and "502" not in offer
    assert await neighbour.say("1") == t.JOINED.format(number=first.number)
    assert await neighbour.say(f"工单 {first.number}") == (
        f"工单 {first.number}\n类型：报修（照明）\n地点：3栋\n状态：已交办\n预计：12月2日（周三）18:00前处理完成")
    listed = await neighbour.say("我的工单")
    assert f"1. {first.number} 3栋·照明（已交办，预计12月2日（周三）18:00前）" in listed
    assert "张建国" not in listed
    # the reporter still sees their own words and flat
    own = await wechat.resident("o_zhang").say(f"工单 {first.number}")
    assert "问题：我是张建国，502门口的楼道灯坏了\n地点：3栋2单元502\n" in own


async def test_a_second_red_report_joins_the_first_and_staff_are_alerted_once(wechat, db, place, clock):
    first_reply = await wechat.resident("o_zhang").say("3栋2单元电梯困人了")
    ticket = await only_ticket(db)
    assert first_reply.startswith(f"【紧急】已立即上报社区和街道，工单号 {ticket.number}")
    clock.advance(minutes=20)
    second = await wechat.resident("o_li").say("3栋电梯困人了，快来")
    assert second == t.RED_JOINED.format(number=ticket.number, advice=t.SAFETY_ADVICE["elevator"],
                                         expected="11月23日（周一）12:00前")
    joined = await only_ticket(db)
    assert len(joined.reporters) == 2
    for openid in ("o_staff", "o_street"):
        assert [m.notice_kind for m in await outbox_to(db, openid)] == ["ticket_alert"], openid
    async with db.sessions() as session:
        notes = list(await session.scalars(select(TicketEvent.note).where(TicketEvent.action == "join")))
    assert notes == ["3栋电梯困人了，快来"]  # the second reporter's words are on the log for staff
    # a photo the second reporter sends next joins the same ticket
    followup = await wechat.resident("o_li").send("image", {"PicUrl": "http://example.invalid/l.jpg",
                                                             "MediaId": "media_l"})
    assert followup.text == t.FOLLOWUP_ATTACHED.format(number=ticket.number)


async def test_a_red_report_after_the_window_is_a_new_alert(wechat, db, place, clock):
    await wechat.resident("o_zhang").say("3栋2单元电梯困人了")
    clock.advance(hours=2, minutes=1)
    await wechat.resident("o_li").say("3栋电梯困人了，快来")
    assert len(await all_tickets(db)) == 2
    assert [m.notice_kind for m in await outbox_to(db, "o_street")] == ["ticket_alert", "ticket_alert"]


async def test_red_reports_of_other_buildings_are_separate(wechat, db, place):
    await wechat.resident("o_zhang").say("3栋2单元电梯困人了")
    await wechat.resident("o_new").say("1栋电梯困人了")
    assert len(await all_tickets(db)) == 2
