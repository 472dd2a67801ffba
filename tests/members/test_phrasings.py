"""The ways member households really phrase their commands, through the real endpoint: leading
acknowledgements, trailing 了 / 啦, voice's "。"; sentences that only sound done never resolve a
ticket; and "转交 …" / "走访 … 需要帮忙" are never taken for "转人工" (the hand-off router's
request route comes after ours). Plus the phrase readers as plain functions."""

from __future__ import annotations

import pytest

from bot.texts import members as t
from handlers import member_phrases as phrases
from storage.ticket_models import Ticket
from tests.members.conftest import add_household, file_ticket, load

TAKES = ["接单{n}", "接单：{n}", "接单 {n}。", "接 {n}", "好的，接单 {n}", "{n}我接了", "{n} 收到", "{n}我来接",
         "我接单了", "收到，我来处理", "这个我来处理", "我接这个单", "好的，我接单啦"]


@pytest.mark.parametrize("phrase", TAKES)
async def test_taking_a_task(wechat, services, place, phrase):
    ticket = await file_ticket(services, place)
    reply = await wechat.resident("o_member").say(phrase.format(n=ticket.number))
    assert reply.startswith(f"已接单：{ticket.number}")
    assert (await load(services.db, Ticket, ticket.id)).first_response_at == services.clock()


@pytest.mark.parametrize("phrase", ["完成 {n} 已修好", "完成{n}已修好", "完成 {n}，灯泡换好了", "{n} 已经修好了",
                                    "{n}修好了", "办结 {n} 已修复", "好的，完成 {n} 换了灯泡"])
async def test_completing_with_the_number_resolves_at_once(wechat, services, place, phrase):
    ticket = await file_ticket(services, place)
    assert await wechat.resident("o_member").say(phrase.format(n=ticket.number)) == t.DONE.format(number=ticket.number)
    assert (await load(services.db, Ticket, ticket.id)).status == "resolved"


@pytest.mark.parametrize("phrase", ["已完成", "完成了", "处理完毕", "修完了", "搞定了", "已经处理好了", "灯已经换好了",
                                    "弄好了，灯亮了", "好的，修好啦"])
async def test_completing_without_the_number_is_confirmed_first(wechat, services, place, phrase):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    assert await chat.say(phrase) == t.CONFIRM_DONE.format(number=ticket.number, summary="报修·照明", note=phrase)
    assert (await load(services.db, Ticket, ticket.id)).status == "assigned"
    assert await chat.say("是的") == t.DONE.format(number=ticket.number)
    assert (await load(services.db, Ticket, ticket.id)).status == "resolved"


NOT_DONE = ["灯还没有修好了吗", "明天就修好了", "快修好了", "还没修好了", "物业说下周修好了再说", "别急，等电工来了就修好了",
            "你们什么时候修好了告诉我", "{n} 明天就修好了"]


@pytest.mark.parametrize("phrase", NOT_DONE)
async def test_sentences_that_only_sound_done_never_resolve(wechat, services, place, phrase):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    await chat.say(f"接单 {ticket.number}")
    reply = await chat.say(phrase.format(n=ticket.number))
    assert not reply.startswith(("已记录", "确认完成"))
    assert await chat.say("是") != t.DONE.format(number=ticket.number)  # nothing was asked either
    assert (await load(services.db, Ticket, ticket.id)).status == "assigned"


async def test_a_future_or_negated_done_gets_a_hint(wechat, services, place):
    ticket = await file_ticket(services, place)
    assert await wechat.resident("o_member").say("明天就修好了") == t.DONE_NOT_YET.format(number=ticket.number)


@pytest.mark.parametrize("phrase", ["转交 {n} 需要专业电工", "转交{n}：需要电工", "{n} 转交 需要电工", "转给网格员 {n} 需要电工",
                                    "转交 需要专业电工", "这个我处理不了，转交网格员，需要电工"])
async def test_handing_back_is_never_a_thread_with_staff(wechat, services, place, phrase):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    assert await chat.say(phrase.format(n=ticket.number)) == t.TRANSFERRED.format(number=ticket.number, to="网格员")
    moved = await load(services.db, Ticket, ticket.id)
    assert (moved.assignee_team, moved.assignee_resident_id) == ("grid_worker", place.people["o_grid"])
    assert await chat.say("我的任务") == t.MY_TASKS_EMPTY  # the bot still answers: no hand-off began


async def test_a_visit_note_asking_for_help_is_logged_not_handed_to_staff(wechat, services, place):
    await add_household(services, place)
    chat = wechat.resident("o_member")
    reply = await chat.say("走访 5栋301 老人说需要帮忙")
    assert reply.startswith("已记录对王奶奶的走访") and t.VISIT_OFFER_TICKET.format(need="老人说需要帮忙") in reply
    assert await chat.say("我的任务") == t.MY_TASKS_EMPTY  # answered: no hand-off began (next visit: a week)


async def test_while_with_staff_even_commands_are_left_to_staff(wechat, services, place):
    ticket = await file_ticket(services, place)
    chat = wechat.resident("o_member")
    assert "工作人员" in await chat.say("转人工")
    assert await chat.say(f"完成 {ticket.number} 已修好") is None  # staff read it in the thread
    assert (await load(services.db, Ticket, ticket.id)).status == "assigned"


@pytest.mark.parametrize("phrase", ["我的任务", "我的任务？", "查看我的任务", "我有什么任务", "任务", "我的待办", "有哪些任务",
                                    "看看任务"])
async def test_asking_for_the_list(wechat, services, place, phrase):
    await file_ticket(services, place)
    assert (await wechat.resident("o_member").say(phrase)).startswith("您的待办：\n工单 1 件")


async def test_loose_list_phrasings_are_not_read_from_residents(wechat, services, place):
    assert not (await wechat.resident("o_li").say("任务") or "").startswith(("您的待办", "“我的任务”"))


# ---- the readers as plain functions -----------------------------------------------------------

@pytest.mark.parametrize("text, reading", [
    ("那个灯修好了", "done"), ("已完成", "done"), ("处理完毕", "done"), ("好的，完成了", "done"),
    ("已经处理完毕，灯亮了", "done"), ("换好了，以后有问题再找我", "done"),
    ("修好了吗？", "question"), ("修好了没", "question"), ("灯还没有修好了吗", "question"),
    ("快修好了", "not_yet"), ("明天就修好了", "not_yet"), ("还没修好了", "not_yet"),
    ("灯坏了", None), ("我不知道", None)])
def test_how_a_sentence_speaks_of_finishing(text, reading):
    assert phrases.done_reading(text) == reading


@pytest.mark.parametrize("note, need", [
    ("老人身体不错，需要买药", "需要买药"), ("厨房水管漏了", "厨房水管漏了"), ("暖气不热", "暖气不热"),
    ("老人说药吃完了", "老人说药吃完了"), ("老人腿脚不便想找人帮忙打扫", "老人腿脚不便想找人帮忙打扫"),
    ("家里没水了", "家里没水了"), ("老人说家里灯不亮了", "老人说家里灯不亮了"),
    ("一切正常，不需要帮助", None), ("老人身体很好，没什么困难", None), ("暂时不需要", None),
    ("没有困难，不用麻烦", None), ("精神很好", None)])
def test_what_in_a_visit_note_needs_doing(note, need):
    assert phrases.need_in(note) == need


def test_handing_back_to_someone_else_is_not_ours():
    assert phrases.hands_back("灯坏了，转给物业") is None
    assert phrases.hands_back("灯坏了，转交给物业处理") is None
