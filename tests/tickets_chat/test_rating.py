"""回访: 满意 / 基本满意 / 不满意 after 化解; 不满意 reopens the ticket and alerts staff."""

from __future__ import annotations

from sqlalchemy import select

from bot import texts
from bot.texts import tickets as t
from storage import tickets
from storage.ticket_models import TicketEvent
from tests.tickets_chat.conftest import all_tickets, conversation, dialog_state, only_ticket, outbox_to

LAMP = ["楼道灯坏了", "是", "跳过", "跳过", "确认"]


async def _resolved(wechat, db, services, clock, openid="o_zhang"):
    await conversation(wechat.resident(openid), *LAMP)
    ticket = await only_ticket(db)
    clock.advance(hours=5)
    async with services.db.sessions.begin() as session:
        await tickets.transition(session, ticket_id=ticket.id, to="resolved", actor=tickets.Actor("staff", name="王芳"),
                                 now=clock(), settings=services.settings, note="已更换灯泡")
    return ticket


async def test_satisfied_closes_the_loop(wechat, db, place, services, clock):
    ticket = await _resolved(wechat, db, services, clock)
    assert "满意" in (await outbox_to(db, "o_zhang", "ticket_status"))[-1].payload["content"]
    assert await wechat.resident("o_zhang").say("非常满意！") == t.RATED.format(number=ticket.number)
    rated = await only_ticket(db)
    assert (rated.rating, rated.status) == ("satisfied", "closed")
    assert await wechat.resident("o_zhang").say("满意") == t.NOTHING_TO_RATE  # nothing left to rate


async def test_basic_by_number(wechat, db, place, services, clock):
    ticket = await _resolved(wechat, db, services, clock)
    assert await wechat.resident("o_zhang").say("2") == t.RATED.format(number=ticket.number)
    assert (await only_ticket(db)).rating == "basic"


async def test_unsatisfied_reopens_and_alerts_staff(wechat, db, place, services, clock):
    ticket = await _resolved(wechat, db, services, clock)
    staff_before = len(await outbox_to(db, "o_staff"))
    assert await wechat.resident("o_zhang").say("不满意") == t.RATED_UNSATISFIED.format(number=ticket.number)
    reopened = await only_ticket(db)
    assert (reopened.status, reopened.rating) == ("reopened", "unsatisfied")
    assert len(await outbox_to(db, "o_staff", "ticket_alert")) >= 1 and len(await outbox_to(db, "o_staff")) > staff_before
    shown = await wechat.resident("o_zhang").say(f"工单 {ticket.number}")
    assert "状态：重办中" in shown


async def test_a_bare_number_without_a_pending_rating_is_not_a_rating(wechat, db, place):
    reply = await wechat.resident("o_zhang").say("1")
    assert reply == t.NUMBER_WITHOUT_QUESTION.format(number="1") + texts.SERVICE_MENU


async def test_a_number_inside_a_form_is_the_forms(wechat, db, place, services, clock):
    await _resolved(wechat, db, services, clock)
    chat = wechat.resident("o_zhang")
    await conversation(chat, "厨房水管漏水了", "是", "跳过")
    summary = await chat.say("1")  # the phone question's "1", not a rating
    assert summary.startswith("请核对您的报修") and "电话：138****0001" in summary
    assert (await only_ticket(db)).rating is None


async def test_a_joined_reporter_rates_too(wechat, db, place, services, clock):
    await conversation(wechat.resident("o_zhang"), *LAMP)
    await conversation(wechat.resident("o_li"), *LAMP, "1")  # joins the open ticket
    ticket = await only_ticket(db)
    async with services.db.sessions.begin() as session:
        await tickets.transition(session, ticket_id=ticket.id, to="resolved", actor=tickets.Actor("staff", name="王芳"),
                                 now=clock(), settings=services.settings)
    assert await wechat.resident("o_li").say("满意") == t.RATED.format(number=ticket.number)
    assert (await only_ticket(db)).status == "feedback"  # the other reporter has not answered yet
    assert await wechat.resident("o_zhang").say("基本满意") == t.RATED.format(number=ticket.number)
    assert ((await only_ticket(db)).status, (await only_ticket(db)).rating) == ("closed", "basic")


async def test_two_tickets_waiting_are_rated_oldest_first(wechat, db, place, services, clock):
    chat = wechat.resident("o_zhang")
    await conversation(chat, *LAMP)
    await conversation(chat, "楼上半夜装修很吵", "是", "跳过", "跳过", "确认")
    lamp, noise = await all_tickets(db)
    for ticket in (lamp, noise):
        clock.advance(minutes=10)
        async with services.db.sessions.begin() as session:
            await tickets.transition(session, ticket_id=ticket.id, to="resolved", now=clock(),
                                     actor=tickets.Actor("staff", name="王芳"), settings=services.settings)
    assert "请回复“满意”“基本满意”或“不满意”评价" in await chat.say(f"工单 {noise.number}")
    first = await chat.say("满意")
    assert first == t.RATED.format(number=lamp.number) + t.MORE_TO_RATE.format(number=noise.number,
                                                                                description="楼上半夜装修很吵")
    assert await chat.say("3") == t.RATED_UNSATISFIED.format(number=noise.number)
    lamp, noise = await all_tickets(db)
    assert (lamp.rating, noise.rating, noise.status) == ("satisfied", "unsatisfied", "reopened")


async def test_a_rating_with_thanks_is_a_rating(wechat, db, place, services, clock):
    ticket = await _resolved(wechat, db, services, clock)
    assert await wechat.resident("o_zhang").say("满意，谢谢！") == t.RATED.format(number=ticket.number)
    assert ((await only_ticket(db)).rating, (await only_ticket(db)).status) == ("satisfied", "closed")


async def test_unsatisfied_with_a_reason_reopens_with_it_instead_of_a_new_report(wechat, db, place, services,
                                                                                clock):
    ticket = await _resolved(wechat, db, services, clock)
    reply = await wechat.resident("o_zhang").say("不满意，灯还是不亮")
    assert reply == t.RATED_UNSATISFIED.format(number=ticket.number)
    reopened = await only_ticket(db)  # no second ticket
    assert (reopened.status, reopened.rating) == ("reopened", "unsatisfied")
    assert await dialog_state(db, "o_zhang") is None  # no report form either
    async with db.sessions() as session:
        notes = list(await session.scalars(select(TicketEvent.note).where(TicketEvent.ticket_id == ticket.id,
                                                                          TicketEvent.to_status == "reopened")))
    assert notes == ["不满意：灯还是不亮"]
    alert = (await outbox_to(db, "o_staff", "ticket_alert"))[-1]
    assert "居民说：灯还是不亮\n" in alert.payload["content"]


async def test_a_traditional_rating_counts(wechat, db, place, services, clock):
    ticket = await _resolved(wechat, db, services, clock)
    assert await wechat.resident("o_zhang").say("不滿意") == t.RATED_UNSATISFIED.format(number=ticket.number)
    assert (await only_ticket(db)).status == "reopened"


async def test_a_question_about_satisfaction_is_no_rating(wechat, db, place, services, clock):
    await _resolved(wechat, db, services, clock)
    await wechat.resident("o_zhang").say("满意吗")
    ticket = await only_ticket(db)
    assert (ticket.status, ticket.rating) == ("resolved", None)


async def test_unsatisfied_with_a_problem_and_nothing_to_rate_is_a_report(wechat, db, place):
    reply = await wechat.resident("o_zhang").say("不满意，楼下饭店油烟太大")
    assert reply.endswith(t.CONFIRM_LOCATION.format(place="3栋2单元502")) and reply.startswith("收到您的投诉：")
    assert await dialog_state(db, "o_zhang") == "intake:complaint:location_confirm"
