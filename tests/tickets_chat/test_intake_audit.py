"""The intake form against what residents really say mid-form: danger that comes up later, words
that are not a place, traditional characters, the many ways to give up, and corrections that do
not open the message."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.texts import tickets as t
from storage.tickets.sla import covers
from tests.tickets_chat.conftest import all_tickets, conversation, dialog_state, noted, only_ticket, outbox_to

SUMMARY_STEPS = ["是", "跳过", "跳过"]  # from the location question to the summary


# ---- danger said in the middle of the form ----------------------------------------------------


async def test_danger_said_at_the_photo_question_files_red_at_once(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", "是")
    reply = await chat.say("现在电线冒火花了，有烟")
    ticket = await only_ticket(db)
    assert reply == t.FILED_RED.format(number=ticket.number, advice=t.SAFETY_ADVICE["electricity"],
                                       expected="11月23日（周一）12:00前")
    assert (ticket.grade, ticket.category) == ("red", "electricity")
    assert ticket.description == "楼道灯坏了；现在电线冒火花了，有烟"  # both, in the resident's words
    assert [m.notice_kind for m in await outbox_to(db, "o_street")] == ["ticket_alert"]
    assert [m.notice_kind for m in await outbox_to(db, "o_staff")] == ["ticket_alert"]
    assert await dialog_state(db, "o_zhang") == "ticket:followup"


@pytest.mark.parametrize("steps", [["楼道灯坏了"], ["楼道灯坏了", "是", "跳过"], ["楼道灯坏了", *SUMMARY_STEPS]],
                         ids=["location_confirm", "phone", "confirm"])
async def test_danger_is_heard_at_every_step(wechat, db, place, steps):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *steps)
    reply = await chat.say("楼道里着火了")
    ticket = await only_ticket(db)
    assert reply.startswith(f"【紧急】已立即上报社区和街道，工单号 {ticket.number}")
    assert ticket.grade == "red" and ticket.description == "楼道灯坏了；楼道里着火了"
    assert t.SAFETY_ADVICE["fire"] in reply


# ---- only a place is taken as the place ------------------------------------------------------


async def test_another_problem_at_the_location_question_is_not_the_place(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await chat.say("楼道灯坏了")
    reply = await chat.say("还有楼梯扶手也松了")
    assert reply == t.ANOTHER_PROBLEM.format(kind="报修") + t.CONFIRM_LOCATION.format(place="3栋2单元502")
    assert await dialog_state(db, "o_zhang") == "intake:repair:location_confirm"
    summary = (await conversation(chat, *SUMMARY_STEPS))[-1]
    assert "地点：3栋2单元502\n" in summary and "扶手" not in summary


async def test_a_ticket_question_at_the_location_question_is_answered_and_the_form_waits(wechat, db, place,
                                                                                        clock):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", *SUMMARY_STEPS, "确认")
    first = await only_ticket(db)
    clock.advance(days=7)
    await chat.say("厨房水管漏水了")
    reply = await chat.say("我上周报修的灯怎么还没人修")
    assert reply.startswith(f"工单 {first.number}\n类型：报修（照明）\n问题：楼道灯坏了\n")
    assert reply.endswith("\n\n您正在填写的报修还没有提交：" + t.CONFIRM_LOCATION.format(place="3栋2单元502"))
    assert await dialog_state(db, "o_zhang") == "intake:repair:location_confirm"
    await conversation(chat, *SUMMARY_STEPS, "确认")
    second = (await all_tickets(db))[-1]
    assert (second.description, second.address) == ("厨房水管漏水了", "3栋2单元502")


async def test_words_that_are_no_place_are_asked_again(wechat, db, place):
    chat = wechat.resident("o_new")  # no registered home: the place is asked
    assert await chat.say("楼道灯坏了") == noted("报修", "楼道灯坏了") + t.ASK_LOCATION
    assert await chat.say("好的好的吧") == t.LOCATION_UNCLEAR
    assert await chat.say("垃圾站旁边") == t.ASK_PHOTO  # a place in words is still fine
    summary = (await conversation(chat, "跳过", "跳过"))[-1]
    assert "地点：垃圾站旁边\n" in summary


async def test_giving_up_at_the_location_question_cancels(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await chat.say("楼道灯坏了")
    assert await chat.say("我不想报了") == t.CANCELLED.format(kind="报修")
    assert await all_tickets(db) == []


# ---- traditional characters ---------------------------------------------------------------------


async def test_a_traditional_command_is_no_description_and_the_next_answer_is(wechat, db, place):
    chat = wechat.resident("o_zhang")
    assert await chat.say("我要報修") == t.ASK_DESCRIPTION["repair"]
    assert await chat.say("廚房水管漏水了") == t.CONFIRM_LOCATION.format(place="3栋2单元502")
    await conversation(chat, "是", "跳過", "跳過", "確認")
    ticket = await only_ticket(db)
    assert (ticket.description, ticket.address, ticket.category) == ("廚房水管漏水了", "3栋2单元502", "leak")


async def test_a_traditional_place_answer_keeps_the_residents_words(wechat, db, place):
    chat = wechat.resident("o_new")
    await chat.say("路燈壞了")
    assert await chat.say("東門旁邊") == t.ASK_PHOTO
    summary = (await conversation(chat, "跳過", "跳過"))[-1]
    assert "地点：東門旁邊\n" in summary


# ---- giving up ----------------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["取消报修", "撤销", "我不想报了", "先不报了", "不用报了", "算了算了", "不要了谢谢",
                                   "取消取消", "算了不弄了", "取消報修"])
@pytest.mark.parametrize("steps", [["楼道灯坏了"], ["楼道灯坏了", "是"], ["楼道灯坏了", *SUMMARY_STEPS]],
                         ids=["location_confirm", "photo", "confirm"])
async def test_every_way_of_giving_up_cancels(wechat, db, place, words, steps):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *steps)
    assert await chat.say(words) == t.CANCELLED.format(kind="报修")
    assert await dialog_state(db, "o_zhang") is None
    assert await all_tickets(db) == []


async def test_no_thanks_at_the_photo_question_skips_it(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", "是")
    assert await chat.say("不用了，谢谢") == t.ASK_PHONE_REGISTERED.format(masked="138****0001")


# ---- corrections ----------------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["4栋不对，是1栋", "地点不对，是1栋", "不对，应该是1栋", "4棟不對，是1棟"])
async def test_a_correction_may_name_what_it_corrects_first(wechat, db, place, words):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", "不对，是4栋")
    assert await chat.say(words) == t.CORRECTED.format(value="1栋") + t.ASK_PHOTO
    await conversation(chat, "跳过", "跳过", "确认")
    assert (await only_ticket(db)).building_id == place.buildings["1栋"]


async def test_a_building_that_does_not_exist_is_not_read_back_as_changed(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", *SUMMARY_STEPS)
    reply = await chat.say("不对，是15栋")
    assert reply == (t.UNKNOWN_BUILDING.format(building="15栋", examples="1栋、2栋、3栋、4栋") + t.ASK_LOCATION)
    assert "已改为" not in reply


async def test_a_correction_before_the_description_says_ok_once(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await chat.say("我要报修")
    assert await chat.say("不对，是4栋") == t.CORRECTED.format(value="4栋") + t.DESCRIBE["repair"]


async def test_a_corrected_problem_replaces_the_description_and_the_category(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", "是")
    assert await chat.say("不对，不是灯，是电梯坏了") == t.CORRECTED.format(value="电梯坏了") + t.ASK_PHOTO
    summary = (await conversation(chat, "跳过", "跳过"))[-1]
    assert "类别：电梯\n问题：电梯坏了\n" in summary
    await chat.say("确认")
    ticket = await only_ticket(db)
    assert (ticket.category, ticket.description) == ("elevator", "电梯坏了")


async def test_a_category_name_alone_changes_only_the_category(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", *SUMMARY_STEPS)
    reply = await chat.say("改成供电")
    assert reply.startswith(t.CORRECTED.format(value="供电")) and "类别：供电\n问题：楼道灯坏了\n" in reply


# ---- a deadline that runs into the next year ----------------------------------------------------


@pytest.mark.skipif(covers(2027), reason="the installed chinesecalendar knows 2027; tests/tickets/test_sla.py "
                                         "covers the fallback with a year it can never know")
async def test_new_years_day_is_no_workday_even_before_the_calendar_knows_the_year(wechat, db, place, clock):
    clock.now = datetime(2026, 12, 24, 2, 0, tzinfo=timezone.utc)  # Thursday 10:00 in Shanghai
    filed = (await conversation(wechat.resident("o_zhang"), "楼道灯坏了", *SUMMARY_STEPS, "确认"))[-1]
    ticket = await only_ticket(db)
    # 7 working days: Dec 25, 28, 29, 30, 31, (Fri Jan 1 is a holiday), Jan 4, Jan 5
    assert filed == t.FILED.format(number=ticket.number, expected="1月5日（周二）18:00前")
