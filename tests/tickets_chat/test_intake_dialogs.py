"""Reporting a problem through the endpoint: every path of the intake form."""

from __future__ import annotations

from bot.texts import tickets as t
from nlp.slots import REPAIR_CATEGORY_NAMES
from tests.tickets_chat.conftest import all_tickets, conversation, dialog_state, noted, only_ticket, outbox_to


async def test_repair_with_registered_address_photo_and_phone(wechat, db, place):
    chat = wechat.resident("o_zhang")
    assert await chat.say("楼道灯坏了") == noted("报修", "楼道灯坏了") + t.CONFIRM_LOCATION.format(place="3栋2单元502")
    assert await chat.say("是") == t.ASK_PHOTO
    photo = await chat.send("image", {"PicUrl": "http://example.invalid/lamp.jpg", "MediaId": "media_lamp"})
    assert photo.text.startswith(t.PHOTO_RECEIVED) and "138****0001" in photo.text
    assert "13807100001" not in photo.text
    summary = await chat.say("1")
    assert summary.startswith("请核对您的报修") and "类别：照明" in summary and "地点：3栋2单元502" in summary
    assert "照片：1张" in summary and "电话：138****0001" in summary
    filed = await chat.say("确认")

    ticket = await only_ticket(db)
    assert filed == t.FILED.format(number=ticket.number, expected="12月2日（周三）18:00前")  # 7 working days
    assert ticket.number == "20261123-0001"
    assert (ticket.kind, ticket.category, ticket.status) == ("repair", "lighting", "assigned")
    assert (ticket.building_id, ticket.unit, ticket.room) == (place.buildings["3栋"], "2", "502")
    assert (ticket.phone, ticket.phone_consent, ticket.outdoor) == ("13807100001", True, False)
    assert [(a.kind, a.media_id) for a in ticket.attachments] == [("image", "media_lamp")]
    assert ticket.source_key and ticket.description == "楼道灯坏了"
    assert await dialog_state(db, "o_zhang") is None


async def test_first_sentence_with_everything_goes_straight_to_the_summary(wechat, db, place):
    chat = wechat.resident("o_new1")
    summary = await chat.say("4栋1单元楼道灯坏了，电话13912345678")
    # location said, category found, phone given: only the optional photo is asked
    assert summary == noted("报修", "4栋1单元楼道灯坏了，电话13912345678") + t.ASK_PHOTO
    assert "13912345678" not in summary  # read back masked
    summary = await chat.say("跳过")
    assert "地点：4栋1单元" in summary and "电话：139****5678" in summary and "13912345678" not in summary
    await chat.say("确认")
    ticket = await only_ticket(db)
    assert (ticket.building_id, ticket.unit, ticket.phone, ticket.phone_consent) == (
        place.buildings["4栋"], "1", "13912345678", True)


async def test_correction_changes_the_building(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await chat.say("楼道灯坏了")
    corrected = await chat.say("不对，是4栋")
    assert corrected == t.CORRECTED.format(value="4栋") + t.ASK_PHOTO
    replies = await conversation(chat, "跳过", "跳过")
    assert "地点：4栋\n" in replies[-1]
    again = await chat.say("改成2栋1单元")  # a correction on the summary
    assert again.startswith(t.CORRECTED.format(value="2栋1单元")) and "地点：2栋1单元\n" in again
    await chat.say("确认")
    ticket = await only_ticket(db)
    assert (ticket.building_id, ticket.unit, ticket.room) == (place.buildings["2栋"], "1", None)


async def test_edit_from_the_summary_asks_that_field_again(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", "是", "跳过")
    summary = await chat.say("跳过")
    assert "电话：不留" in summary
    assert await chat.say("修改") == t.ASK_EDIT.format(options="1. 问题描述\n2. 地点\n3. 类别\n4. 照片\n5. 电话")
    assert await chat.say("3") == t.ASK_CATEGORY.format(options=_numbered_repair_categories())
    summary = await chat.say("供电")
    assert "类别：供电" in summary
    await chat.say("确认")
    assert (await only_ticket(db)).category == "electricity"


def _numbered_repair_categories() -> str:
    return "\n".join(f"{n}. {name}" for n, name in enumerate([*REPAIR_CATEGORY_NAMES.values(), "其他"], 1))


async def test_a_bare_request_asks_for_the_description_then_the_category(wechat, db, place):
    chat = wechat.resident("o_zhang")
    assert await chat.say("我要报修") == t.ASK_DESCRIPTION["repair"]
    assert await chat.say("坏了") == t.DESCRIPTION_TOO_SHORT
    assert await chat.say("卫生间那个东西一直响") == t.CONFIRM_LOCATION.format(place="3栋2单元502")
    asked = await chat.say("是")
    assert asked == t.ASK_CATEGORY.format(options=_numbered_repair_categories())
    assert await chat.say("随便") == t.CATEGORY_UNCLEAR + "\n" + asked
    assert await chat.say("12") == t.ASK_PHOTO  # 12 = 其他
    await conversation(chat, "跳过", "跳过", "确认")
    ticket = await only_ticket(db)
    assert (ticket.category, ticket.description) == ("other", "卫生间那个东西一直响")


async def test_menu_button_starts_a_complaint(wechat, db, place):
    chat = wechat.resident("o_zhang")
    assert (await chat.event("CLICK", "intent:complaint")).text == t.ASK_DESCRIPTION["complaint"]
    assert await chat.say("楼下饭店油烟太大") == t.CONFIRM_LOCATION.format(place="3栋2单元502")


async def test_location_message_gives_the_place(wechat, db, place):
    chat = wechat.resident("o_new2")  # not registered: the place must be asked
    assert await chat.say("有人乱停车把路堵了") == noted("投诉", "有人乱停车把路堵了") + t.ASK_LOCATION
    located = await chat.send("location", {"Location_X": 32.04, "Location_Y": 112.14, "Scale": 15,
                                           "Label": "襄阳市樊城区示范社区东门"})
    assert located.text == t.LOCATION_NOTED.format(value="襄阳市樊城区示范社区东门") + t.ASK_PHOTO
    summary = (await conversation(chat, "跳过", "跳过"))[-1]
    assert "类别：停车秩序" in summary and "地点：襄阳市樊城区示范社区东门" in summary
    await chat.say("确认")
    ticket = await only_ticket(db)
    assert (ticket.kind, ticket.category, ticket.outdoor, ticket.building_id) == ("complaint", "parking", True, None)
    assert (ticket.latitude, ticket.longitude, ticket.address) == (32.04, 112.14, "襄阳市樊城区示范社区东门")
    assert [a.kind for a in ticket.attachments] == ["location"]


async def test_free_text_place_and_an_unknown_building(wechat, db, place):
    chat = wechat.resident("o_new3")
    assert await chat.say("路灯不亮了") == noted("报修", "路灯不亮了") + t.ASK_LOCATION
    unknown = await chat.say("15栋")
    assert unknown == t.UNKNOWN_BUILDING.format(building="15栋", examples="1栋、2栋、3栋、4栋") + t.ASK_LOCATION
    assert await chat.say("小区东门") == t.ASK_PHOTO
    await conversation(chat, "跳过", "跳过", "确认")
    ticket = await only_ticket(db)
    assert (ticket.address, ticket.outdoor, ticket.building_id) == ("小区东门", True, None)


async def test_a_public_place_in_the_report_is_its_place_not_the_home(wechat, db, place):
    chat = wechat.resident("o_zhang")
    assert await chat.say("小区门口好多垃圾没人收") == noted("投诉", "小区门口好多垃圾没人收") + t.ASK_PHOTO
    summary = (await conversation(chat, "跳过", "跳过"))[-1]
    assert "地点：小区门口" in summary and "类别：环境卫生" in summary
    await chat.say("确认")
    ticket = await only_ticket(db)
    assert (ticket.address, ticket.outdoor, ticket.building_id) == ("小区门口", True, None)


async def test_building_qr_scene_is_offered_as_the_place(wechat, db, place):
    chat = wechat.resident("o_scanner")
    await chat.event("subscribe", "qrscene_building:2栋")
    assert await chat.say("楼道灯坏了") == noted("报修", "楼道灯坏了") + t.CONFIRM_LOCATION.format(place="2栋")
    assert await chat.say("是") == t.ASK_PHOTO


async def test_photo_sent_before_the_report_is_attached(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await chat.send("image", {"PicUrl": "http://example.invalid/leak.jpg", "MediaId": "media_leak"})
    await conversation(chat, "厨房天花板漏水了", "是")  # the photo is there: no photo question
    summary = await chat.say("跳过")
    assert "照片：1张" in summary
    await chat.say("确认")
    assert [a.media_id for a in (await only_ticket(db)).attachments] == ["media_leak"]
    # the next report does not take the same photo again
    assert (await conversation(chat, "楼道灯坏了", "是"))[-1] == t.ASK_PHOTO


async def test_suggestion_needs_no_place_or_photo(wechat, db, place):
    chat = wechat.resident("o_zhang")
    asked = await chat.say("建议小区多装几个充电桩")
    assert asked == noted("建议", "建议小区多装几个充电桩") + t.ASK_PHONE_REGISTERED.format(masked="138****0001")
    summary = await chat.say("跳过")
    assert summary.startswith("请核对您的建议") and "地点" not in summary and "照片" not in summary
    filed = await chat.say("确认")
    ticket = await only_ticket(db)
    assert filed.startswith(f"已提交，工单号 {ticket.number}")
    assert (ticket.kind, ticket.category, ticket.building_id, ticket.address, ticket.phone) == (
        "suggestion", None, None, None, None)


async def test_red_grade_files_at_once_and_alerts(wechat, db, place):
    chat = wechat.resident("o_zhang")
    reply = await chat.say("3栋2单元电梯困人了，快来人")
    ticket = await only_ticket(db)
    assert reply == t.FILED_RED.format(number=ticket.number, advice=t.SAFETY_ADVICE["elevator"],
                                       expected="11月23日（周一）12:00前")  # red: 2 hours
    assert "119" in reply and "120" in reply and "110" in reply
    assert (ticket.grade, ticket.category, ticket.building_id, ticket.unit) == ("red", "elevator",
                                                                                place.buildings["3栋"], "2")
    assert [m.notice_kind for m in await outbox_to(db, "o_staff")] == ["ticket_alert"]
    assert [m.notice_kind for m in await outbox_to(db, "o_street")] == ["ticket_alert"]
    # a photo sent afterwards joins the ticket
    followup = await chat.send("image", {"PicUrl": "http://example.invalid/lift.jpg", "MediaId": "media_lift"})
    assert followup.text == t.FOLLOWUP_ATTACHED.format(number=ticket.number)
    assert [a.media_id for a in (await only_ticket(db)).attachments] == ["media_lift"]


async def test_gas_smell_gets_gas_advice_even_when_it_comes_out_mid_form(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await chat.say("我要报修")
    reply = await chat.say("厨房里闻到很浓的煤气味")
    ticket = await only_ticket(db)
    assert reply == t.FILED_RED.format(number=ticket.number, advice=t.SAFETY_ADVICE["gas"],
                                       expected="11月23日（周一）12:00前")
    assert ticket.grade == "red" and ticket.category == "gas"


async def test_commands_mid_form_are_answered_and_the_form_stays(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await chat.say("楼道灯坏了")
    assert await chat.say("我的工单") == t.NO_OPEN_TICKETS
    assert await dialog_state(db, "o_zhang") == "intake:repair:location_confirm"
    assert await chat.say("是") == t.ASK_PHOTO


async def test_unclear_answers_get_a_hint_and_lose_nothing(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", "是", "跳过")
    assert await chat.say("嗯嗯嗯嗯啊") == t.PHONE_UNCLEAR
    summary = await chat.say("0710-3456789")
    assert "电话：071****6789" in summary
    assert await chat.say("好吧随便吧哈哈") == t.CONFIRM_UNCLEAR
    await chat.say("确认")
    assert (await only_ticket(db)).phone == "0710-3456789"


async def test_nothing_is_filed_without_confirmation(wechat, db, place):
    chat = wechat.resident("o_zhang")
    await conversation(chat, "楼道灯坏了", "是", "跳过", "跳过")
    assert await all_tickets(db) == []
    assert await dialog_state(db, "o_zhang") == "intake:repair:confirm"


async def test_yes_to_the_photo_question_says_how_to_send_one(wechat, db, place):
    chat = wechat.resident("o_zhang")
    assert (await conversation(chat, "楼道灯坏了", "是"))[-1] == t.ASK_PHOTO
    assert await chat.say("好的") == t.PHOTO_GO_AHEAD
    assert await dialog_state(db, "o_zhang") == "intake:repair:photo"  # still waiting for the photo
