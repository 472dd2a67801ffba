"""The intake form's pure functions: next step, validators, corrections, read-backs."""

from __future__ import annotations

import pytest

from bot.texts import tickets as t
from handlers import intake_form as form
from handlers.intake_form import Draft
from nlp.normalize import normalize


def _ready(**fields) -> Draft:
    base = dict(kind="repair", description="楼道灯坏了", category="lighting", building="3栋", building_id=3, unit=2,
                room="502", location_confirmed=True, photo_asked=True, phone_asked=True)
    return Draft(**{**base, **fields})


@pytest.mark.parametrize(("changes", "step"), [
    ({"description": None}, "description"),
    ({"building": None, "building_id": None, "unit": None, "room": None}, "location"),
    ({"location_confirmed": False}, "location_confirm"),
    ({"category": None}, "category"),
    ({"photo_asked": False}, "photo"),
    ({"phone_asked": False}, "phone"),
    ({}, "confirm"),
])
def test_next_step_is_the_first_missing_thing(changes, step):
    assert form.next_step(_ready(**changes)) == step


def test_photo_or_phone_given_need_not_be_asked():
    assert form.next_step(_ready(photo_asked=False, photos=[{"media_id": "m"}])) == "confirm"
    assert form.next_step(_ready(phone_asked=False, phone="13800000000")) == "confirm"


def test_suggestions_skip_place_photo_and_category():
    draft = Draft(kind="suggestion", description="建议多装充电桩")
    assert form.next_step(draft) == "phone"
    draft.phone_asked = True
    assert form.next_step(draft) == "confirm"


def test_draft_round_trips_as_json_without_sharing_lists():
    stored = _ready(photos=[{"media_id": "m1", "url": None}]).to_dict()
    draft = Draft.from_dict(stored)
    draft.photos.append({"media_id": "m2"})
    assert len(stored["photos"]) == 1 and Draft.from_dict(stored) == _ready(photos=[{"media_id": "m1", "url": None}])


@pytest.mark.parametrize(("text", "step", "cancel"), [
    ("取消", "photo", True), ("算了", "location", True), ("算了吧。", "confirm", True), ("不报了", "category", True),
    ("不用了", "location", True), ("不用了", "photo", False), ("不用了", "phone", False), ("取消报名", "photo", False),
    ("是", "location", False), ("撤销", "photo", True), ("我不想报了", "location", True), ("先不报了", "phone", True),
    ("不用报了", "photo", True), ("算了算了", "confirm", True), ("不要了谢谢", "photo", True), ("取消取消", "edit", True),
    ("取消报修", "category", True), ("不用了谢谢", "photo", False), ("不是", "location", False), ("不要", "photo", False),
])
def test_cancel_words(text, step, cancel):
    assert form.is_cancel(text, step) is cancel


@pytest.mark.parametrize(("text", "yes", "no", "skip", "submit", "edit"), [
    ("是", True, False, False, True, False),
    ("对的", True, False, False, True, False),
    ("不是", False, True, False, False, False),
    ("跳过", False, False, True, False, False),
    ("没有", False, False, True, False, False),
    ("确认提交", False, False, False, True, False),
    ("对，就是这里", True, False, False, False, False),
    ("好的，确认无误", False, False, False, True, False),
    ("的", False, False, False, False, False),
    ("修改", False, False, False, False, True),
])
def test_answer_words(text, yes, no, skip, submit, edit):
    assert (form.is_yes(text), form.is_no(text), form.is_skip(text), form.is_submit(text), form.is_edit(text)) == (
        yes, no, skip, submit, edit)


@pytest.mark.parametrize(("text", "rest", "at_place"), [
    ("不对，是4栋", "4栋", False),
    ("不对,是4栋", "4栋", False),
    ("改成5栋1单元", "5栋1单元", False),
    ("不是3栋，是4栋", "4栋", False),
    ("不对，在东门", "东门", True),
    ("应该在小区北门", "小区北门", True),
    ("错了，问题是楼道灯一直闪", "问题是楼道灯一直闪", False),
    ("不是", None, None),
    ("楼道灯坏了", None, None),
    ("4栋不对，是1栋", "1栋", False),
    ("地点不对，是4栋", "4栋", True),
    ("我说错了，在东门", "东门", True),
    ("楼道灯开关不对，按了不亮", None, None),  # no "是/在": a description, not a correction
])
def test_correction_markers(text, rest, at_place):
    found = form.correction(text)
    assert (found.rest, found.at_place) == (rest, at_place) if rest else found is None


def test_a_new_building_replaces_unit_and_room_a_new_unit_keeps_the_building():
    draft = _ready(location_confirmed=False)
    assert form.apply_correction(draft, form.correction("不对，是4栋"), "photo") == "4栋"
    assert (draft.building, draft.building_id, draft.unit, draft.room, draft.location_confirmed) == (
        "4栋", None, None, None, True)
    assert form.apply_correction(draft, form.correction("改成2单元301"), "confirm") == "4栋2单元301"


def test_corrections_of_phone_category_place_and_description():
    draft = _ready()
    assert form.apply_correction(draft, form.correction("改成13912345678"), "confirm") == "139****5678"
    assert (draft.phone, draft.phone_consent) == ("13912345678", True)
    assert form.apply_correction(draft, form.correction("改成供电"), "confirm") == "供电"
    assert draft.category == "electricity"
    assert form.apply_correction(draft, form.correction("不对，在小区东门"), "confirm") == "小区东门"
    assert (draft.place, draft.building) == ("小区东门", None)
    assert form.apply_correction(draft, form.correction("不对，是楼道灯一直闪"), "confirm") == "楼道灯一直闪"
    assert (draft.description, draft.category) == ("楼道灯一直闪", "lighting")
    assert form.apply_correction(draft, form.correction("不对，是的"), "confirm") is None


@pytest.mark.parametrize(("text", "describes"), [
    ("我要报修", False), ("报修", False), ("我有个建议", False), ("投诉一下", False), ("3栋2单元502", False),
    ("报修 3栋", False), ("13812345678", False), ("楼道灯坏了", True), ("建议多装充电桩", True),
    ("3栋楼道灯坏了", True), ("我要投诉楼下饭店油烟", True),
])
def test_what_counts_as_a_description(text, describes):
    assert form.describes_problem(normalize(text)) is describes


def test_answers_to_each_step():
    draft = Draft(kind="repair", description="灯坏了")
    assert not form.answer(draft, "location", "嗯", "嗯")
    assert form.answer(draft, "location", normalize("三栋二单元502"), "三栋二单元502")
    assert (draft.building, draft.unit, draft.room, draft.location_confirmed) == ("3栋", 2, "502", True)
    draft.location_confirmed = False
    assert form.answer(draft, "location_confirm", "不是", "不是") and not draft.has_location
    assert form.answer(draft, "location", "小区东门", "小区东门") and draft.place == "小区东门"
    assert not form.answer(draft, "category", "随便", "随便")
    assert form.answer(draft, "category", "5", "5") and draft.category == list(form.category_names("repair"))[4]
    assert form.answer(draft, "category", "照明", "照明") and draft.category == "lighting"
    assert form.answer(draft, "category", "是灯不亮", "是灯不亮") and draft.category == "lighting"
    assert not form.answer(draft, "photo", "等一下", "等一下")
    assert form.answer(draft, "photo", "没有照片", "没有照片") and draft.photo_asked
    assert not form.answer(draft, "phone", "不知道", "不知道", "13800000001")
    assert form.answer(draft, "phone", "1", "1", "13800000001") and draft.phone == "13800000001"
    assert not form.answer(draft, "phone", "1", "1", None)  # nothing registered to pick


def test_description_answer_fills_other_missing_fields():
    draft = Draft(kind="repair")
    text = normalize("5栋电梯停了，电话13912345678")
    assert form.answer(draft, "description", text, "5栋电梯停了，电话13912345678")
    assert (draft.category, draft.building, draft.phone, draft.grade) == ("elevator", "5栋", "13912345678", "yellow")


def test_category_numbers_follow_the_listed_names():
    names = list(form.category_names("complaint"))
    assert form.parse_category("complaint", "1") == names[0] and form.parse_category("complaint", "第2个") == names[1]
    assert form.parse_category("complaint", str(len(names))) == "other"
    assert form.parse_category("complaint", str(len(names) + 1)) is None
    assert form.category_names("suggestion") == {}


def test_buildings_resolve_by_how_residents_say_them():
    draft = Draft(kind="repair", building="3栋")
    assert form.resolve_building(draft, {"3号楼": 7}) and (draft.building, draft.building_id) == ("3号楼", 7)
    missing = Draft(kind="repair", building="15栋")
    assert not form.resolve_building(missing, {"3栋": 1})
    assert form.resolve_building(missing, {})  # no buildings registered: nothing to check against


def test_scene_building():
    assert form.scene_building("building:3栋") == "3栋"
    assert form.scene_building("东区5号楼") == "东区5栋"
    assert form.scene_building("activity:7") is None and form.scene_building(None) is None


def test_summary_masks_phones_and_reads_back_everything():
    text = form.summary(_ready(description="灯坏了，电话13912345678", photos=[{"media_id": "m"}], phone="13912345678"))
    assert text == t.SUMMARY.format(kind="报修", lines="类别：照明\n问题：灯坏了，电话139****5678\n地点：3栋2单元502\n"
                                                     "照片：1张\n电话：139****5678")


def test_edit_picks_a_field_and_clears_it():
    draft = _ready(phone="13800000001", photos=[{"media_id": "m"}])
    assert form.parse_edit_field(draft, "2") == "location" and form.parse_edit_field(draft, "改电话") == "phone"
    assert form.parse_edit_field(draft, "9") is None
    form.clear_field(draft, "photo")
    assert form.next_step(draft) == "photo"
    assert form.edit_fields(Draft(kind="suggestion")) == ["description", "phone"]


@pytest.mark.parametrize(("text", "category", "advice"), [
    ("厨房有煤气味", "gas", "gas"), ("楼道里着火了", None, "fire"), ("电梯困人了", "elevator", "elevator"),
    ("配电箱漏电", "electricity", "electricity"), ("水管爆了家里水淹了", "water_drain", "water"),
    ("有人被困住了", None, "general"),
])
def test_safety_advice_fits_the_danger(text, category, advice):
    assert form.safety_advice(text, category) == t.SAFETY_ADVICE[advice]


@pytest.mark.parametrize(("text", "place"), [
    ("小区门口好多垃圾没人收", "小区门口"), ("东门那边乱停车", "东门"), ("小区大门坏了", "小区大门"),
    ("广场舞太吵了", "广场"), ("地下车库漏水", "地下车库"),
    ("单元门坏了", None), ("防盗门关不上", None), ("门禁卡刷不开", None), ("楼道灯坏了", None),
])
def test_public_places_in_a_sentence(text, place):
    assert form.public_place(text) == place


@pytest.mark.parametrize(("text", "place"), [
    ("小区东门", "小区东门"), ("3栋后面", "3栋后面"), ("垃圾站旁边", "垃圾站旁边"), ("花坛", "花坛"), ("家里", "家里"),
    ("东门那边垃圾没人收", "东门"),  # a sentence: only the public spot it names
    ("还有楼梯扶手也松了", None), ("我上周报修的灯怎么还没人修", None), ("我不想报了", None), ("好的", None),
    ("不知道", None), ("厨房水管漏水了", None), ("是", None), ("跳过", None),
])
def test_only_words_that_look_like_a_place_are_a_place(text, place):
    assert form.place_from(normalize(text), text) == place


def test_a_place_keeps_the_residents_own_characters():
    assert form.place_from(normalize("東門旁邊"), "東門旁邊") == "東門旁邊"


@pytest.mark.parametrize(("text", "category"), [
    ("供电", "electricity"), ("是照明的", "lighting"), ("电梯类", "elevator"), ("电梯坏了", None), ("照明灯不亮", None),
])
def test_a_category_by_name_alone(text, category):
    assert form.category_only("repair", text) == category


def test_danger_mid_form_joins_the_description_and_makes_it_red():
    draft = _ready(grade=None)
    text = "现在电线冒火花了，有烟"
    assert form.add_danger(draft, normalize(text), text)
    assert (draft.grade, draft.category, draft.description) == ("red", "electricity", "楼道灯坏了；现在电线冒火花了，有烟")
    assert not form.add_danger(draft, "着火了", "着火了")  # already red: filed at once, nothing to add
    assert not form.add_danger(_ready(), "灯不亮", "灯不亮")


def test_a_description_is_judged_on_the_normalised_text_but_kept_as_said():
    assert form.description_of("我要報修", normalize("我要報修")) is None
    assert form.description_of("樓道燈壞了", normalize("樓道燈壞了")) == "樓道燈壞了"
