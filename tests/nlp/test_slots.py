import pytest

from nlp.normalize import normalize
from nlp.slots import (
    COMPLAINT_CATEGORY_NAMES,
    REPAIR_CATEGORY_NAMES,
    address_slots,
    extract_slots,
    find_phone,
    grade,
    mask_phone,
)


def slots_of(text, intent=None, now=None):
    return extract_slots(normalize(text), intent, now)


@pytest.mark.parametrize(
    "text, building",
    [
        ("3栋楼道灯坏了", "3栋"),
        ("3号楼楼道灯坏了", "3栋"),
        ("三号楼楼道灯坏了", "3栋"),
        ("3幢楼道灯坏了", "3栋"),
        ("7号楼电梯坏了", "7栋"),
        ("东区5幢门口", "东区5栋"),
        ("十二栋", "12栋"),
    ],
)
def test_building(text, building):
    assert slots_of(text)["building"] == building


def test_full_address():
    s = slots_of("我住3栋2单元502，厨房漏水")
    assert (s["building"], s["unit"], s["room"], s["address"]) == ("3栋", 2, "502", "3栋2单元502")


def test_address_in_chinese_numerals():
    s = slots_of("三号楼二单元五〇二室")
    assert s["address"] == "3栋2单元502"
    assert slots_of("五零二室")["room"] == "502"


def test_dashed_address():
    assert address_slots("3-2-502") == {"building": "3栋", "unit": 2, "room": "502", "address": "3栋2单元502"}


def test_no_address():
    assert "address" not in slots_of("楼道灯坏了")
    assert "building" not in slots_of("我有3个问题")


@pytest.mark.parametrize(
    "text, phone",
    [
        ("电话13812345678", "13812345678"),
        ("打我电话 138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("座机0710-3456789", "0710-3456789"),
    ],
)
def test_phone(text, phone):
    assert find_phone(normalize(text)) == phone


@pytest.mark.parametrize("text", ["12345678901", "1381234567", "138123456789", "20261123-0012"])
def test_not_a_phone(text):
    assert find_phone(text) is None


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0710-3456789") == "071****6789"
    assert mask_phone("123") == "***"


@pytest.mark.parametrize(
    "text, category",
    [
        ("楼道灯坏了", "lighting"),
        ("下水道堵了", "water_drain"),
        ("卫生间顶上渗水", "leak"),
        ("电梯里的灯不亮", "elevator"),
        ("门禁卡刷不开", "door_access"),
        ("路面有个大坑", "road"),
        ("有煤气味", "gas"),
        ("整栋楼停电了", "electricity"),
        ("暖气不热", "heating"),
        ("外墙皮脱落", "wall_roof"),
        ("健身器材坏了", "public_facility"),
    ],
)
def test_repair_category(text, category):
    assert slots_of(text)["repair_category"] == category
    assert category in REPAIR_CATEGORY_NAMES


@pytest.mark.parametrize(
    "text, category",
    [
        ("楼上半夜拖椅子吵得睡不着", "noise"),
        ("小区里乱停车", "parking"),
        ("垃圾桶满了没人清", "sanitation"),
        ("物业态度太差", "property_service"),
        ("楼顶有人加盖了一层", "illegal_building"),
        ("遛狗不拴绳", "pets"),
        ("消防通道被堵了", "safety_hazard"),
        ("邻居把鞋柜放我家门口", "neighbours"),
        ("楼下饭店油烟太大", "business"),
    ],
)
def test_complaint_category(text, category):
    assert slots_of(text)["complaint_category"] == category
    assert category in COMPLAINT_CATEGORY_NAMES


@pytest.mark.parametrize(
    "text, expected",
    [
        ("家里有燃气泄漏", "red"),
        ("楼道里好大的煤气味", "red"),
        ("楼下着火了", "red"),
        ("配电箱在冒烟", "red"),
        ("电梯困人了", "red"),
        ("我被关在电梯里了", "red"),
        ("三号楼电梯关人了，快来", "red"),
        ("电梯卡住老人了", "red"),
        ("电梯卡住了不动", "yellow"),
        ("楼道电线裸露", "red"),
        ("插座漏电", "red"),
        ("地下室水淹了", "red"),
        ("水漫到客厅了 漫水了", "red"),
        ("水管爆管了", "red"),
        ("和邻居吵架了", "yellow"),
        ("消防通道被堵，有安全隐患", "yellow"),
        ("整栋楼都没水", "yellow"),
        ("楼道灯坏了", "blue"),
    ],
)
def test_grade(text, expected):
    assert grade(normalize(text)) == expected


def test_grade_only_for_tickets_unless_alarming():
    assert slots_of("楼道灯坏了", "repair")["grade"] == "blue"
    assert "grade" not in slots_of("你好", "greeting")
    assert slots_of("有煤气味", "other")["grade"] == "red"


def test_ticket_number_checkin_code_and_number():
    assert slots_of("工单 20261123-0012")["ticket_no"] == "20261123-0012"
    assert slots_of("签到 4821")["checkin_code"] == "4821"
    assert slots_of("3")["number"] == 3
    assert slots_of("第2个")["number"] == 2
    assert "number" not in slots_of("3栋灯坏了")


@pytest.mark.parametrize("text", [
    "楼道灯坏了", "下水道堵了", "电梯里的灯不亮", "有煤气味", "楼上半夜拖椅子吵得睡不着", "小区里乱停车", "你好", "谢谢",
    "遛狗不拴绳", "楼下饭店油烟太大", "物业态度太差", "今天天气不错", "我想报名志愿活动", "邻居把鞋柜放我家门口",
])
def test_the_one_search_for_any_category_agrees_with_the_tables(text):
    from nlp import slots

    tables = ((slots._REPAIR_KEYWORDS, slots._ANY_REPAIR), (slots._COMPLAINT_KEYWORDS, slots._ANY_COMPLAINT))
    for table, anything in tables:
        assert (anything.search(text) is not None) == (slots._first(table, text) is not None)
