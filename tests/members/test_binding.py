"""Taking a role with a staff-issued code through the real endpoint: ok, wrong, expired, reused,
rate-limited; and a building QR code pre-filling where a new resident lives."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.texts import members as t
from storage.member_models import BindingCode, BindingFailure
from storage.members import codes
from storage.models import Resident
from storage.tickets import routing
from tests.members.conftest import load, resident


async def issue(services, place, role: str = "member_household", **kw) -> str:
    async with services.db.sessions.begin() as session:
        code = await codes.issue(session, community_id=place.community_id, role=role, now=services.clock(),
                                 settings=services.settings.members, **kw)
        return code.code


async def a_wrong_code(services, place) -> str:
    """A code no row holds (codes are random: pick one that is not issued)."""
    async with services.db.sessions() as session:
        taken = set(await session.scalars(select(BindingCode.code)))
    return next(c for c in ("000000", "111111", "222222") if c not in taken)


async def test_a_code_makes_the_sender_member_household_of_its_buildings(wechat, services, place):
    code = await issue(services, place, building_ids=[place.buildings["4栋"]], label="陈桂兰")
    reply = await wechat.resident("o_new").say(f"绑定 {code}")
    assert reply.startswith("绑定成功！您已登记为4栋的党员中心户。")
    new = await resident(services.db, "o_new")
    assert new.roles == ["member_household"]
    async with services.db.sessions() as session:  # ticket routing now finds them for 4栋
        routed = await routing.member_households(session, place.community_id, place.buildings["4栋"])
        used = await session.scalar(select(BindingCode).where(BindingCode.code == code))
    assert [r.openid for r in routed] == ["o_new"]
    assert (used.used_by_resident_id, used.used_at) == (new.id, services.clock())


async def test_a_grid_worker_code_links_the_grid(wechat, services, place):
    code = await issue(services, place, role="grid_worker", grid_ids=[place.grid_id])
    assert (await wechat.resident("o_new").say(f"绑定{code}")).startswith("绑定成功！您已登记为第一网格的网格员。")
    async with services.db.sessions() as session:
        workers = await routing.grid_workers(session, place.community_id, place.grid_id)
    assert {r.openid for r in workers} == {"o_grid", "o_new"}


async def test_a_wrong_code_is_refused_and_counted(wechat, services, place):
    await issue(services, place)
    reply = await wechat.resident("o_new").say(f"绑定 {await a_wrong_code(services, place)}")
    assert reply == t.BIND_WRONG
    assert (await resident(services.db, "o_new")).roles == []
    async with services.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(BindingFailure)) == 1


async def test_an_expired_code_is_refused(wechat, services, place, clock):
    code = await issue(services, place)
    clock.advance(hours=services.settings.members.binding_code_ttl_hours, seconds=1)
    assert await wechat.resident("o_new").say(f"绑定 {code}") == t.BIND_EXPIRED
    assert (await resident(services.db, "o_new")).roles == []


async def test_a_code_works_once(wechat, services, place):
    code = await issue(services, place, building_ids=[place.buildings["4栋"]])
    assert (await wechat.resident("o_first").say(f"绑定 {code}")).startswith("绑定成功")
    assert await wechat.resident("o_second").say(f"绑定 {code}") == t.BIND_USED
    assert (await resident(services.db, "o_second")).roles == []


async def test_after_five_wrong_codes_even_the_right_one_waits_for_the_window(wechat, services, place, clock):
    code = await issue(services, place)
    chat = wechat.resident("o_guesser")
    wrong = await a_wrong_code(services, place)
    for _ in range(services.settings.members.binding_max_failures):
        assert await chat.say(f"绑定 {wrong}") == t.BIND_WRONG
    blocked = t.BIND_BLOCKED.format(minutes=services.settings.members.binding_failure_window_minutes)
    assert await chat.say(f"绑定 {code}") == blocked
    async with services.db.sessions() as session:  # the refusal spent nothing
        assert (await session.scalar(select(BindingCode).where(BindingCode.code == code))).used_at is None
    assert (await wechat.resident("o_other_person").say(f"绑定 {wrong}")) == t.BIND_WRONG  # per openid
    clock.advance(minutes=services.settings.members.binding_failure_window_minutes, seconds=1)
    assert (await chat.say(f"绑定 {code}")).startswith("绑定成功")


async def test_a_message_without_a_six_digit_code_explains_the_command(wechat, place):
    chat = wechat.resident("o_new")
    assert await chat.say("绑定") == t.BIND_HOWTO
    assert await chat.say("绑定 12345") == t.BIND_HOWTO


async def test_a_building_qr_code_fills_in_a_new_residents_building(wechat, services, place):
    delivery = await wechat.resident("o_scanned").event("subscribe", "qrscene_building:4栋", Ticket="T")
    assert "4栋" in delivery.text
    assert (await resident(services.db, "o_scanned")).building_id == place.buildings["4栋"]
    await wechat.resident("o_li").event("SCAN", "building:5栋", Ticket="T")  # a known home is kept
    assert (await load(services.db, Resident, place.people["o_li"])).building_id == place.buildings["3栋"]


@pytest.mark.parametrize("spelling", ["绑定 {code}。", "绑定码：{code}", "绑定码 {code}", "我的绑定码是{code}", "身份绑定 {code}！"])
async def test_the_ways_people_type_the_code(wechat, services, place, spelling):
    code = await issue(services, place)
    assert (await wechat.resident("o_new").say(spelling.format(code=code))).startswith("绑定成功！")


async def test_a_spoken_code_is_found_in_the_recognised_text(wechat, services, place):
    code = await issue(services, place)
    spoken = f"绑定{code[:3]} {code[3:]}。"  # WeChat's recognition spaces and punctuates numbers
    assert (await wechat.resident("o_voice").voice(spoken)).text.startswith("绑定成功！")
    digits = "零一二三四五六七八九"
    other = await issue(services, place)
    said = "绑定" + "".join(digits[int(d)] for d in other) + "。"
    assert (await wechat.resident("o_voice2").voice(said)).text.startswith("绑定成功！")


async def test_no_six_digits_after_bind_explains_how(wechat, services, place):
    for text in ("绑定", "绑定 12345", "绑定码：1234567", "绑定手机号怎么弄"):
        assert await wechat.resident("o_new").say(text) == t.BIND_HOWTO
