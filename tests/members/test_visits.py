"""Follow-up visits through the real endpoint: the due-day reminder, logging a visit in chat (by
address, by name, late), raising a ticket from a visit note, and the escalation of a visit
nobody logged — on the real reminder job and a clock the test moves."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.texts import members as t
from storage.member_models import Reminder, Visit
from storage.ticket_models import Ticket
from tests.members.conftest import STAFF, add_household, load, outbox_to, reminders_of, texts_of, tick, visits_of


async def test_the_member_household_is_reminded_on_the_due_day(services, place, clock):
    household = await add_household(services, place, anchor=date(2026, 11, 24))  # tomorrow, 09:00
    await tick(services)
    assert await outbox_to(services.db, "o_member", "member_reminder") == []
    clock.set(2026, 11, 24, 9, 0)
    await tick(services)
    [reminder] = texts_of(await outbox_to(services.db, "o_member", "member_reminder"))
    assert reminder == ("【走访提醒】今天请走访王奶奶（独居老人，5栋301）。\n"
                        "走访后回复“走访 5栋301 情况”记录，例如：走访 5栋301 老人身体不错")
    await tick(services)
    assert len(await outbox_to(services.db, "o_member", "member_reminder")) == 1  # once
    [visit] = await visits_of(services.db, household.id)
    assert (visit.due_date, visit.status) == (date(2026, 11, 24), "open")


async def test_a_visit_logged_in_chat_is_recorded_and_the_next_one_is_made(wechat, services, place, clock):
    household = await add_household(services, place)  # weekly from today
    await tick(services)
    reply = await wechat.resident("o_member").say("走访 5栋301 老人身体不错，需要买药")
    assert reply == (t.VISIT_LOGGED.format(household="王奶奶", next="下次走访：11月30日（周一）。")
                     + t.VISIT_OFFER_TICKET.format(need="需要买药"))
    logged, upcoming = await visits_of(services.db, household.id)
    assert (logged.status, logged.note, logged.logged_at) == ("logged", "老人身体不错，需要买药", clock())
    assert (upcoming.status, upcoming.due_date) == ("open", date(2026, 11, 30))
    again = await reminders_of(services.db, subject=f"visit:{logged.id}", kind="visit_again")
    assert [r.status for r in again] == ["cancelled"]  # logged: no second reminder

    assert (await wechat.resident("o_member").say("是")).startswith("已报单：工单号 ")
    async with services.db.sessions() as session:
        ticket = await session.scalar(select(Ticket))
    assert ticket.description == "走访王奶奶（独居老人）时发现：老人身体不错，需要买药"
    assert (ticket.building_id, ticket.room, ticket.source_key) == (place.buildings["5栋"], "301", f"visit:{logged.id}")
    assert (await load(services.db, Visit, logged.id)).ticket_id == ticket.id


async def test_declining_the_offer_files_nothing(wechat, services, place):
    await add_household(services, place)
    chat = wechat.resident("o_member")
    assert t.VISIT_OFFER_TICKET.format(need="厨房水管漏水") in await chat.say("走访 王奶奶 厨房水管漏水")
    assert await chat.say("不用") == t.VISIT_TICKET_SKIPPED
    async with services.db.sessions() as session:
        assert await session.scalar(select(Ticket)) is None


async def test_the_household_is_found_by_name_or_when_it_is_the_only_one(wechat, services, place):
    household = await add_household(services, place)
    chat = wechat.resident("o_member")
    assert (await chat.say("走访 王奶奶 精神很好")).startswith("已记录对王奶奶的走访")
    extra = await chat.say("走访了 又去看了一次")  # nothing due now: an extra visit today
    assert extra.startswith("已记录对王奶奶的走访")
    visits = await visits_of(services.db, household.id)
    assert [(v.status, v.note) for v in visits] == [("logged", "精神很好\n又去看了一次"), ("open", None)]


async def test_unclear_or_unknown_households_are_asked_about(wechat, services, place):
    await add_household(services, place)
    await add_household(services, place, name="李爷爷", building="3栋", room="102")
    chat = wechat.resident("o_member")
    which = await chat.say("走访 老人挺好")
    assert which.startswith("您负责走访好几户") and "1. 王奶奶（独居老人）5栋301" in which and "2. 李爷爷" in which
    assert (await chat.say("走访 4栋101 挺好")).startswith("没有找到您负责走访的“4栋101”")
    assert await chat.say("走访 3栋102") == t.VISIT_NEEDS_NOTE.format(place="3栋102")
    assert (await chat.say("走访 3栋102 挺好")).startswith("已记录对李爷爷的走访")
    assert await wechat.resident("o_other").say("走访 5栋301 挺好") == t.VISIT_NONE_ASSIGNED


async def test_a_visit_nobody_logs_is_reminded_again_then_escalated(wechat, services, place, clock):
    household = await add_household(services, place, anchor=date(2026, 11, 24))
    clock.set(2026, 11, 24, 9, 0)
    await tick(services)
    clock.set(2026, 11, 26, 9, 0)  # due + 2 days
    await tick(services)
    reminders = texts_of(await outbox_to(services.db, "o_member", "member_reminder"))
    assert len(reminders) == 2
    assert reminders[1].startswith("【走访再提醒】王奶奶（独居老人，5栋301）应于11月24日（周二）走访")
    assert await outbox_to(services.db, "o_grid", "member_alert") == []

    clock.set(2026, 11, 28, 9, 0)  # due + 4 days
    await tick(services)
    escalation = ("【走访督办】王奶奶（独居老人，5栋301）应于11月24日（周二）走访，负责的党员中心户张建国至今没有记录。"
                  "请跟进。")
    assert texts_of(await outbox_to(services.db, "o_grid", "member_alert")) == [escalation]
    assert texts_of(await outbox_to(services.db, STAFF, "member_alert")) == [escalation]
    missed, upcoming = await visits_of(services.db, household.id)
    assert (missed.status, missed.escalated_at, upcoming.due_date) == ("missed", clock(), date(2026, 12, 1))
    await tick(services)
    assert len(await outbox_to(services.db, "o_grid", "member_alert")) == 1  # once
    assert "辖区逾期未走访 1 户" in await wechat.resident("o_grid").say("我的任务")

    late = await wechat.resident("o_member").say("走访 王奶奶 补上了，一切都好")
    assert late == t.VISIT_LOGGED_LATE.format(household="王奶奶", due="11月24日（周二）",
                                              next="下次走访：12月1日（周二）。")
    assert [v.status for v in await visits_of(services.db, household.id)] == ["logged", "open"]


async def test_reminders_wait_for_the_end_of_the_households_quiet_hours(services, place, clock):
    await add_household(services, place, anchor=date(2026, 11, 24), hour=7, quiet=("21:00", "08:30"))
    async with services.db.sessions() as session:
        [due] = list(await session.scalars(select(Reminder).where(Reminder.kind == "visit_due")))
    assert due.due_at == clock.set(2026, 11, 24, 8, 30)


async def test_a_visit_note_after_completing_a_task_still_offers_a_ticket(wechat, services, place):
    from tests.members.conftest import file_ticket

    ticket = await file_ticket(services, place)
    await add_household(services, place)
    chat = wechat.resident("o_member")
    assert await chat.say(f"完成 {ticket.number} 已修好") == t.DONE.format(number=ticket.number)  # a photo window opens
    reply = await chat.say("走访 5栋301 老人身体不错，需要买药")
    assert reply.endswith(t.VISIT_OFFER_TICKET.format(need="需要买药"))
    assert (await chat.say("是")).startswith("已报单：工单号 ")


async def test_a_note_saying_nothing_is_needed_offers_nothing(wechat, services, place):
    await add_household(services, place)
    reply = await wechat.resident("o_member").say("走访 5栋301 一切正常，不需要帮助")
    assert reply == t.VISIT_LOGGED.format(household="王奶奶", next="下次走访：11月30日（周一）。")


async def test_after_eleven_days_down_no_stale_visit_reminder_goes_out(services, place, clock):
    household = await add_household(services, place, anchor=date(2026, 11, 24))
    clock.set(2026, 12, 5, 10, 0)  # the scheduler was down from before the due day until now
    await tick(services)
    await tick(services)
    member = texts_of(await outbox_to(services.db, "o_member", "member_reminder"))
    assert member == []  # neither "今天请走访…" for 24 Nov nor a second reminder after the escalation
    statuses = {(r.kind, r.status) for r in await reminders_of(services.db, openid="o_member")
                if r.kind != "digest"}
    assert statuses == {("visit_due", "cancelled"), ("visit_again", "cancelled"), ("visit_due", "pending"),
                        ("visit_again", "pending")}  # the missed visit's stopped; the next visit's waiting
    assert len(await outbox_to(services.db, "o_grid", "member_alert")) == 1  # the escalation itself
    missed, upcoming = await visits_of(services.db, household.id)
    assert (missed.status, upcoming.due_date) == ("missed", date(2026, 12, 8))


async def test_the_due_day_reminder_expires_with_its_day(services, place, clock):
    await add_household(services, place, anchor=date(2026, 11, 24))
    [due] = await reminders_of(services.db, kind="visit_due")
    [again] = await reminders_of(services.db, kind="visit_again")
    assert due.expires_at == clock.set(2026, 11, 25, 0, 0)
    assert again.expires_at == clock.set(2026, 11, 28, 9, 0)  # when the visit escalates
    clock.set(2026, 11, 25, 0, 30)  # down all day on the 24th: the "今天" reminder is not sent a day late
    await tick(services)
    assert await outbox_to(services.db, "o_member", "member_reminder") == []
    assert [r.status for r in await reminders_of(services.db, kind="visit_due")] == ["expired"]


async def test_a_delivery_hour_that_quiet_hours_push_into_the_next_day_is_refused(services, place):
    from storage.members import care

    with pytest.raises(care.CareError) as refused:
        await add_household(services, place, anchor=date(2026, 11, 24), hour=23)
    assert str(refused.value) == t.CARE_HOUR_IN_QUIET.format(hour=23, start="22:00", end="08:00")
    with pytest.raises(care.CareError):
        await add_household(services, place, anchor=date(2026, 11, 24), hour=21, quiet=("20:00", "07:00"))
    await add_household(services, place, anchor=date(2026, 11, 24), hour=21)  # before the quiet hours: fine
