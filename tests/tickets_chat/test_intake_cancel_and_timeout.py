"""取消 at every step, and the 30-minute timeout: the notice goes out once."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from bot import texts
from bot.intake_jobs import notify_expired_intakes
from bot.texts import tickets as t
from storage.models import Resident
from tests.tickets_chat.conftest import all_tickets, conversation, dialog_state, noted, outbox_to

# (who, what they say to reach the step, the state they are then in)
STEPS = [
    ("o_zhang", ["我要报修"], "description"),
    ("o_zhang", ["楼道灯坏了"], "location_confirm"),
    ("o_new", ["楼道灯坏了"], "location"),
    ("o_zhang", ["我要报修", "卫生间那个东西一直响", "是"], "category"),
    ("o_zhang", ["楼道灯坏了", "是"], "photo"),
    ("o_zhang", ["楼道灯坏了", "是", "跳过"], "phone"),
    ("o_zhang", ["楼道灯坏了", "是", "跳过", "跳过"], "confirm"),
    ("o_zhang", ["楼道灯坏了", "是", "跳过", "跳过", "修改"], "edit"),
]


@pytest.mark.parametrize(("openid", "messages", "step"), STEPS, ids=[s[2] for s in STEPS])
async def test_cancel_at_every_step(wechat, db, place, openid, messages, step):
    chat = wechat.resident(openid)
    await conversation(chat, *messages)
    assert await dialog_state(db, openid) == f"intake:repair:{step}"
    assert await chat.say("取消") == t.CANCELLED.format(kind="报修")
    assert await dialog_state(db, openid) is None
    assert await all_tickets(db) == []


async def test_other_ways_to_give_up_and_the_optional_steps(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await chat.say("楼道灯坏了")
    assert await chat.say("算了吧") == t.CANCELLED.format(kind="报修")
    await conversation(chat, "楼道灯坏了", "是")
    # where a question may be skipped, "不用了" skips it instead of cancelling
    assert await chat.say("不用了") == t.ASK_PHONE_REGISTERED.format(masked="138****0001")
    assert (await chat.say("不用了")).startswith("请核对您的报修")
    assert await chat.say("不用了") == t.CANCELLED.format(kind="报修")


async def test_timeout_cancels_the_form_and_notifies_once(wechat, db, place, clock, services, worker, fake_wechat):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", "是")
    clock.advance(minutes=29)
    assert await notify_expired_intakes(services) == 0  # not yet
    clock.advance(minutes=2)
    assert await notify_expired_intakes(services) == 1
    assert await notify_expired_intakes(services) == 0  # a second run sends nothing more
    await worker.drain()
    notice = t.TIMEOUT_NOTICE.format(kind="报修", minutes=30)
    assert [(m["kind"], m["content"]) for m in fake_wechat.sent_to("o_zhang")] == [("text", notice)]
    assert [m.status for m in await outbox_to(db, "o_zhang", "intake_timeout")] == ["sent"]
    assert await dialog_state(db, "o_zhang") is None
    # the resident's late answer is not taken as part of the cancelled form (nor told "expired"
    # a second time): a bare "跳过" means nothing on its own, so the bot asks what they want
    options = f"1. {texts.INTENT_LABELS['ticket_status']}\n2. {texts.INTENT_LABELS['repair']}"
    assert await chat.say("跳过") == texts.CLARIFY.format(options=options)
    assert await dialog_state(db, "o_zhang") == "clarify"
    assert await all_tickets(db) == []


async def test_answering_after_the_timeout_is_told_so_in_chat(wechat, db, place, clock, services):
    chat = wechat.resident("o_zhang")
    await chat.say("楼道灯坏了")
    clock.advance(minutes=31)
    assert await chat.say("是") == t.EXPIRED.format(kind="报修", minutes=30)
    assert await notify_expired_intakes(services) == 0  # already told: no notice as well
    assert await outbox_to(db, "o_zhang") == []


async def test_a_new_report_after_the_timeout_starts_afresh(wechat, db, place, clock):
    chat = wechat.resident("o_zhang")
    await chat.say("楼道灯坏了")
    clock.advance(minutes=45)
    reply = await chat.say("厨房水管漏水了")
    assert reply == (t.RESTARTED_AFTER_EXPIRY.format(kind="报修") + noted("报修", "厨房水管漏水了")
                     + t.CONFIRM_LOCATION.format(place="3栋2单元502"))


async def test_an_unsubscribed_resident_gets_no_timeout_notice(wechat, db, place, clock, services):
    chat = wechat.resident("o_zhang")
    await chat.say("楼道灯坏了")
    async with db.sessions.begin() as session:  # e.g. the unsubscribe event was lost
        await session.execute(update(Resident).where(Resident.openid == "o_zhang").values(subscribed=False))
    clock.advance(minutes=31)
    assert await notify_expired_intakes(services) == 0
    assert await dialog_state(db, "o_zhang") is None  # the form is cancelled all the same
    assert await outbox_to(db, "o_zhang") == []
