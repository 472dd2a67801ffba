"""Scenarios through the real endpoint: signed, encrypted XML in; what the resident sees out."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import texts
from storage.models import Conversation, MessageLog, OutboxMessage, Resident


async def _count(db, model, *where) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def _resident(db, openid) -> Resident:
    async with db.sessions() as session:
        return await session.scalar(select(Resident).where(Resident.openid == openid))


async def test_greeting_gets_an_encrypted_passive_reply(wechat):
    delivery = await wechat.resident("o_alice").send("text", {"Content": "你好"})
    assert delivery.status == 200
    assert "<Encrypt>" in delivery.body  # safe mode: the reply itself is encrypted
    assert delivery.text == texts.GREETING
    assert delivery.reply["ToUserName"] == "o_alice"


async def test_every_message_and_reply_is_on_the_log(wechat, db):
    await wechat.resident("o_log").say("你好")
    async with db.sessions() as session:
        rows = (await session.scalars(select(MessageLog).where(MessageLog.openid == "o_log")
                                      .order_by(MessageLog.id))).all()
    assert [(r.direction, r.msg_type, r.delivery) for r in rows] == [("in", "text", None), ("out", "text", "passive")]
    assert rows[0].content == "你好" and rows[1].content == texts.GREETING


async def test_voice_uses_wechats_recognition_as_text(wechat):
    assert (await wechat.resident("o_voice").voice("你好。")).text == texts.GREETING


async def test_voice_without_recognition_asks_again(wechat):
    assert (await wechat.resident("o_voice2").voice(None)).text == texts.VOICE_UNCLEAR


async def test_image_and_location_are_kept_on_the_log(wechat, db):
    chat = wechat.resident("o_media")
    image = await chat.send("image", {"PicUrl": "http://example.invalid/p.jpg", "MediaId": "m1"})
    place = await chat.send("location", {"Location_X": 32.04, "Location_Y": 112.14, "Scale": 15, "Label": "3栋楼下"})
    assert image.text == texts.IMAGE_RECEIVED
    assert "3栋楼下" in place.text
    async with db.sessions() as session:
        rows = (await session.scalars(select(MessageLog).where(MessageLog.openid == "o_media",
                                                               MessageLog.direction == "in")
                                      .order_by(MessageLog.id))).all()
    assert rows[0].media_url == "http://example.invalid/p.jpg" and rows[0].media_id == "m1"
    assert (rows[1].latitude, rows[1].longitude, rows[1].label) == (32.04, 112.14, "3栋楼下")


async def test_subscribe_greets_and_remembers_the_qr_scene(wechat, db):
    delivery = await wechat.resident("o_new").event("subscribe", "qrscene_building:3栋", Ticket="T")
    assert "欢迎关注测试社区" in delivery.text and "building:3栋" in delivery.text
    resident = await _resident(db, "o_new")
    assert resident.subscribed and resident.qr_scene == "building:3栋"


async def test_plain_subscribe_shows_what_the_account_can_do(wechat):
    delivery = await wechat.resident("o_plain").event("subscribe")
    assert delivery.text == texts.WELCOME.format(community="测试社区")


async def test_unsubscribe_marks_the_resident_and_cancels_pending_messages(wechat, db, settings):
    await wechat.resident("o_leaving").say("你好")
    async with db.sessions.begin() as session:
        session.add(OutboxMessage(community_id=1, account="test", openid="o_leaving", kind="text",
                                  payload={"content": "稍后的通知"}, next_attempt_at=_far_future()))
    delivery = await wechat.resident("o_leaving").event("unsubscribe")
    assert delivery.body == "success"
    assert not (await _resident(db, "o_leaving")).subscribed
    assert await _count(db, OutboxMessage, OutboxMessage.openid == "o_leaving", OutboxMessage.status == "pending") == 0
    assert await _count(db, OutboxMessage, OutboxMessage.status == "cancelled") == 1


async def test_handoff_keeps_the_bot_quiet_until_the_resident_returns(wechat, db):
    chat = wechat.resident("o_person")
    assert await chat.say("转人工") == texts.HANDOFF_STARTED
    assert await chat.say("楼道灯坏了好几天了") is None  # for staff; the bot says nothing
    async with db.sessions() as session:
        assert (await session.scalar(select(Conversation.handoff))) is True
    assert await chat.say("返回") == texts.HANDOFF_ENDED
    assert await chat.say("你好") == texts.GREETING


async def test_menu_click_maps_straight_to_an_intent(wechat):
    assert (await wechat.resident("o_click").event("CLICK", "intent:handoff")).text == texts.HANDOFF_STARTED


async def test_unknown_message_type_gets_a_polite_answer(wechat):
    assert (await wechat.resident("o_odd").send("miniprogrampage", {"Title": "x"})).text == texts.UNSUPPORTED


async def test_view_and_template_receipts_are_not_answered(wechat):
    assert (await wechat.resident("o_view").event("VIEW", "https://example.invalid")).body == "success"
    assert (await wechat.resident("o_view").event("TEMPLATESENDJOBFINISH", Status="success")).body == "success"


def _far_future():
    from datetime import datetime, timezone

    return datetime(2099, 1, 1, tzinfo=timezone.utc)
