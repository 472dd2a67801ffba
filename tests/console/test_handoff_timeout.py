"""The hand-off's silence timeout, through the endpoint on a clock the tests move: it counts office
time from the last message of either side, so an evening request and the resident's follow-ups
wait for staff, and the bot takes the resident back only after real silence."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot import texts
from bot.office_hours import after_office_time
from bot.texts import handoff as handoff_texts
from nlp.timephrase import SHANGHAI
from storage.ticket_models import Ticket
from tests.console.conftest import console_settings, logged_in
from tests.console.test_threads import conversation

HOURS = ["08:30-12:00", "14:30-17:30"]


def shanghai(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Shanghai time (23rd: Monday)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


@pytest.fixture
def settings(db_url, fake_wechat):
    return console_settings(db_url, fake_wechat.base_url, console={"cookie_secure": False, "office_hours": HOURS})


@pytest.fixture
def wechat(app_client, settings):
    from tests.wechat_client import WeChatClient

    return WeChatClient(app_client, settings.accounts[0])


async def tickets(db) -> list[Ticket]:
    from sqlalchemy import select

    async with db.sessions() as session:
        return list(await session.scalars(select(Ticket)))


async def test_an_evening_request_and_its_follow_up_wait_for_staff(wechat, console, place, clock, db):
    clock.now = shanghai(23, 20, 0)
    chat = wechat.resident("o_zhang")
    assert await chat.say("转人工") == texts.HANDOFF_STARTED + "\n" + handoff_texts.OFF_HOURS.format(when="明天8:30")
    clock.now = shanghai(23, 22, 30)
    assert await chat.say("我家厨房水管漏水了，能派人来修吗") is None  # for staff, not a repair form
    assert (await conversation(db, "o_zhang")).handoff and await tickets(db) == []
    clock.now = shanghai(24, 8, 40)
    await logged_in(console, "staff")
    listing = await console.page("/console/threads")
    assert "张建国" in listing and "我家厨房水管漏水了" in listing and "已超时" not in listing
    page = await console.page(f"/console/threads/{place.residents['o_zhang']}")
    assert "转人工" in page and "我家厨房水管漏水了" in page


async def test_each_message_restarts_the_count_in_office_time(wechat, clock, db):
    clock.now = shanghai(24, 10, 0)
    chat = wechat.resident("o_zhang")
    await chat.say("转人工")
    clock.now = shanghai(24, 11, 50)
    assert await chat.say("还在吗") is None
    clock.now = shanghai(24, 14, 20)  # 10 minutes of office time since 11:50 (lunch does not count)
    assert await chat.say("有人吗") is None
    clock.now = shanghai(24, 16, 29)  # 1 h 59 min of office time since 14:30
    assert await chat.say("麻烦快点") is None
    clock.now = shanghai(24, 18, 30)  # 1 h 1 min of office time since 16:29: still waiting
    assert await chat.say("明天能来吗") is None
    assert (await conversation(db, "o_zhang")).handoff
    clock.now = shanghai(25, 10, 31)  # 2 h 1 min of office time since 08:30: the bot is back
    assert await chat.say("你好") == texts.GREETING
    assert not (await conversation(db, "o_zhang")).handoff


async def test_a_staff_answer_restarts_the_count(wechat, console, place, clock, db):
    clock.now = shanghai(24, 9, 0)
    chat = wechat.resident("o_zhang")
    await chat.say("转人工")
    await logged_in(console, "staff")
    clock.now = shanghai(24, 10, 50)
    reply = await console.post(f"/console/threads/{place.residents['o_zhang']}/reply",
                               {"text": "您好，请讲。", "form_key": "t1"})
    assert reply.status == 303
    clock.now = shanghai(24, 12, 10) + timedelta(hours=2, minutes=40)  # 14:50: 1 h 30 min since the answer
    assert await chat.say("楼上漏水到我家了") is None
    row = await conversation(db, "o_zhang")
    assert row.handoff and row.handoff_at == shanghai(24, 9, 0) and row.handoff_active_at == clock.now


async def test_after_the_silence_the_thread_is_marked_and_the_bot_answers(wechat, console, place, clock, db):
    clock.now = shanghai(24, 9, 0)
    chat = wechat.resident("o_zhang")
    await chat.say("转人工")
    clock.now = shanghai(24, 11, 1)  # 2 h 1 min
    await logged_in(console, "staff")
    assert "已超时" in await console.page("/console/threads")
    assert await chat.say("你好") == texts.GREETING
    assert "张建国" not in await console.page("/console/threads")


async def test_asking_again_off_hours_says_when(wechat, clock):
    clock.now = shanghai(23, 20, 0)
    chat = wechat.resident("o_zhang")
    await chat.say("转人工")
    again = await chat.say("转人工")
    assert again == texts.HANDOFF_ALREADY + "\n" + handoff_texts.OFF_HOURS.format(when="明天8:30")


def test_office_time_skips_nights_lunch_weekends_and_holidays():
    two_hours = timedelta(hours=2)
    at = lambda *a: datetime(*a, tzinfo=SHANGHAI)  # noqa: E731
    assert after_office_time(at(2026, 11, 23, 20, 0), two_hours, HOURS) == at(2026, 11, 24, 10, 30)
    assert after_office_time(at(2026, 11, 23, 11, 0), two_hours, HOURS) == at(2026, 11, 23, 15, 30)
    assert after_office_time(at(2026, 11, 27, 17, 0), two_hours, HOURS) == at(2026, 11, 30, 10, 0)  # Fri → Mon
    assert after_office_time(at(2026, 9, 30, 17, 0), two_hours, HOURS) == at(2026, 10, 8, 10, 0)  # National Day
    assert after_office_time(at(2026, 11, 23, 20, 0), two_hours, []) == at(2026, 11, 23, 22, 0)  # no hours: wall clock
