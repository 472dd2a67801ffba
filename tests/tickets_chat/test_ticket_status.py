"""我的工单, 工单 <number>, and free questions about a ticket, answered from the tickets."""

from __future__ import annotations

from bot.texts import tickets as t
from storage import tickets
from tests.tickets_chat.conftest import all_tickets, conversation, dialog_state

LAMP = ["楼道灯坏了", "是", "跳过", "跳过", "确认"]
NOISE = ["楼上半夜装修很吵", "是", "跳过", "跳过", "确认"]


async def test_my_tickets_lists_the_open_ones_and_a_number_shows_one(wechat, db, place, clock):
    chat = wechat.resident("o_zhang")
    assert await chat.say("我的工单") == t.NO_OPEN_TICKETS
    await conversation(chat, *LAMP)
    clock.advance(hours=1)
    await conversation(chat, *NOISE)
    lamp, noise = await all_tickets(db)
    listing = await chat.say("我的工单")
    expected = [t.TICKET_LINE.format(n=1, number=noise.number, description="楼上半夜装修很吵", status="已交办",
                                     expected="预计" + tickets.expected_date_text(noise)),
                t.TICKET_LINE.format(n=2, number=lamp.number, description="楼道灯坏了", status="已交办",
                                     expected="预计" + tickets.expected_date_text(lamp))]
    assert listing == t.OPEN_TICKETS.format(count=2, lines="\n".join(expected), hint=t.PICK_HINT)
    shown = await chat.say("2")
    assert shown.startswith(f"工单 {lamp.number}\n类型：报修（照明）\n问题：楼道灯坏了\n地点：3栋2单元502\n状态：已交办")
    assert f"预计：{tickets.expected_date_text(lamp)}处理完成" in shown
    assert await dialog_state(db, "o_zhang") is None


async def test_a_number_out_of_the_list(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *LAMP)
    await chat.say("我的工单")
    assert await chat.say("5") == t.PICK_OUT_OF_RANGE.format(count=1)


async def test_ticket_by_number_only_for_its_reporters(wechat, db, place):
    await conversation(wechat.resident("o_zhang"), *LAMP)
    number = (await all_tickets(db))[0].number
    own = await wechat.resident("o_zhang").say(f"工单 {number}")
    assert own.startswith(f"工单 {number}\n类型：报修（照明）")
    assert await wechat.resident("o_li").say(f"工单 {number}") == t.TICKET_NOT_FOUND.format(number=number)
    assert await wechat.resident("o_li").say("查一下 20991231-0001") == t.TICKET_NOT_FOUND.format(
        number="20991231-0001")


async def test_free_question_finds_last_weeks_lamp(wechat, db, place, clock):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *LAMP)
    clock.advance(days=5)
    await conversation(chat, *NOISE)
    clock.advance(days=2)  # Monday 30 Nov: the lamp was reported last week
    lamp = (await all_tickets(db))[0]
    answer = await chat.say("我上周报修的灯怎么还没人修")
    assert answer.startswith(f"工单 {lamp.number}\n类型：报修（照明）")
    assert "状态：已交办" in answer and f"预计：{tickets.expected_date_text(lamp)}处理完成" in answer


async def test_free_question_with_several_matches_lists_them(wechat, db, place, clock):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *LAMP)
    clock.advance(hours=1)
    await conversation(chat, "厨房水管漏水了", "是", "跳过", "跳过", "确认")
    listing = await chat.say("我报修的东西怎么还没人来")
    assert listing.startswith(t.SEVERAL_MATCHED.format(count=2, lines="", hint="").split("\n")[0])
    assert listing.endswith(t.PICK_HINT)
    leak = (await all_tickets(db))[1]
    assert (await chat.say("1")).startswith(f"工单 {leak.number}")


async def test_free_question_without_open_tickets_offers_a_report(wechat, db, place):
    assert await wechat.resident("o_zhang").say("我上周报修的灯怎么还没人修") == t.NO_MATCHING_TICKET


async def test_free_question_matching_nothing_lists_what_is_open(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *NOISE)
    answer = await chat.say("我上周报修的灯怎么还没人修")
    assert answer.startswith("没有找到完全对应的工单") and (await all_tickets(db))[0].number in answer
