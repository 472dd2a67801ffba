"""The resources list (资源清单): residents say what they can do and when they are free; staff
search it."""

from __future__ import annotations

import pytest

from bot.texts import points as t
from handlers.resources import Offer, parse_offer
from storage.points import resources


@pytest.mark.parametrize("said, offer", [
    ("我会修电器,周末有空", Offer(["修电器"], ["周末"])),
    ("我是电工,平时晚上有时间", Offer(["电工"], ["平时晚上"])),
    ("擅长理发和按摩", Offer(["理发", "按摩"], [])),
    ("我会一点英语、也会弹钢琴。周六上午方便", Offer(["英语", "弹钢琴"], ["周六上午"])),
    ("我退休了,天天有空", Offer([], ["天天"])),
    ("我都有空", Offer([], ["随时"])),
])
def test_offers_are_read_from_plain_words(said, offer):
    assert parse_offer(said) == offer


@pytest.mark.parametrize("said", ["周末有空来修一下吗", "你们会修电器吗", "楼道灯坏了", "我是3栋的"])
def test_questions_and_other_messages_are_not_offers(said):
    offer = parse_offer(said)
    assert offer is None or offer == Offer([], [])


async def test_a_resident_registers_skills_and_free_time_in_chat(wechat, services, staff):
    chat = wechat.resident("o_handy")
    assert await chat.say("我会修电器，周末有空") == t.OFFER_RECORDED.format(skills="修电器", times="周末")
    assert await chat.say("我是电工，晚上有空") == t.OFFER_RECORDED.format(skills="修电器、电工", times="晚上")
    await staff.resident("o_handy", name="黄伟")
    await wechat.resident("o_barber").say("我会理发，周六上午有空")
    async with services.db.sessions() as session:
        found = await resources.search(session, staff.community_id, "电器")
        both = await resources.search(session, staff.community_id, "周六 理发")
        everyone = await resources.search(session, staff.community_id)
        nobody = await resources.search(session, staff.community_id, "电器 周六")
    assert [(entry.skills, entry.availability, resident.name) for entry, resident in found] == [
        (["修电器", "电工"], ["晚上"], "黄伟")]
    assert [resident.openid for _, resident in both] == ["o_barber"]
    assert len(everyone) == 2 and nobody == []


async def test_wanting_to_volunteer_is_asked_what_one_can_do(wechat):
    assert await wechat.resident("o_keen").say("我想当志愿者") == t.OFFER_ASK


async def test_a_repair_request_that_mentions_free_time_is_not_an_offer(wechat, services, staff):
    reply = await wechat.resident("o_fix").say("我家水管漏水了，我周末有空，你们来修一下")
    assert reply != t.OFFER_RECORDED and "资源清单" not in (reply or "")
    async with services.db.sessions() as session:
        assert await resources.search(session, staff.community_id) == []


async def test_traditional_characters_register_and_are_found_in_simplified(wechat, services, staff):
    chat = wechat.resident("o_tw")
    assert await chat.say("我會修電器，週末有空") == t.OFFER_RECORDED.format(skills="修电器", times="周末")
    async with services.db.sessions() as session:
        [(entry, _)] = await resources.search(session, staff.community_id, "电器 周末")
        assert await resources.search(session, staff.community_id, "電器") != []
    assert (entry.skills, entry.availability, entry.said) == (["修电器"], ["周末"], "我會修電器，週末有空")


async def test_a_sign_up_in_free_words_is_not_an_offer(wechat, services, staff):
    activity = await staff.activity("清洁家园")
    assert (await wechat.resident("o_can").say(f"我能参加{activity.number}号活动")).startswith("报名成功")
    async with services.db.sessions() as session:
        assert await resources.search(session, staff.community_id) == []
