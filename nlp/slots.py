"""Slot extraction: address, phone, time, category, urgency grade, ticket and list numbers.

Every extractor works on normalised text (see nlp.normalize) and is independent of the
intent, so a handler can ask for a slot the classifier did not expect (a ticket-status
message that names the broken lamp still gets repair_category). Absent slots are omitted.
"""

from __future__ import annotations

import re
from datetime import datetime

from nlp.intents import TICKET_INTENTS
from nlp.patterns import any_of
from nlp.timephrase import parse_time

REPAIR_CATEGORY_NAMES: dict[str, str] = {
    "lighting": "照明",
    "water_drain": "给排水",
    "leak": "渗漏",
    "elevator": "电梯",
    "door_access": "门禁",
    "road": "道路",
    "gas": "燃气",
    "electricity": "供电",
    "heating": "供暖",
    "wall_roof": "墙体屋面",
    "public_facility": "公共设施",
}

COMPLAINT_CATEGORY_NAMES: dict[str, str] = {
    "noise": "噪音扰民",
    "parking": "停车秩序",
    "sanitation": "环境卫生",
    "property_service": "物业服务",
    "illegal_building": "违章搭建",
    "pets": "宠物饲养",
    "safety_hazard": "安全隐患",
    "neighbours": "邻里纠纷",
    "business": "商户经营",
}

GRADE_NAMES: dict[str, str] = {"red": "红色", "yellow": "黄色", "blue": "蓝色"}

# First match wins: the more specific or more dangerous category comes first
# ("电梯里的灯不亮" is an elevator job, "暖气管漏水" a heating one).
_REPAIR_KEYWORDS: list[tuple[str, re.Pattern]] = [
    (cat, re.compile(words))
    for cat, words in [
        ("gas", r"燃气|煤气|天然气|液化气|漏气"),
        ("elevator", r"电梯|电体"),
        ("heating", r"暖气|供暖|采暖"),
        ("electricity", r"停电|没电|断电|跳闸|电线|漏电|电箱|配电|电表|插座|充电桩|线路|冒火花|被电"),
        ("lighting", r"灯|照明"),
        ("leak", r"漏水|渗水|漏雨|滴水|渗漏|进水"),
        ("water_drain", r"下水|排水|堵了|堵住|堵塞|停水|没水|水管|爆管|水压|马桶|返水|化粪池|井盖|窨井|积水|自来水|水龙头|阀门|冒水|来水|水表"),
        ("door_access", r"门禁|单元门|门锁|对讲|道闸|防盗门|闭门器|大门|卷帘门|刷卡|密码锁"),
        ("road", r"路面|坑|塌|地砖|减速带|台阶|人行道|石墩|道路|路坏"),
        ("wall_roof", r"墙|屋顶|楼顶|防水|瓦片|裂缝|天花板|雨棚|扶手|窗户|玻璃|水泥块"),
        ("public_facility", r"健身器材|滑梯|座椅|长椅|垃圾桶|信报箱|监控|晾衣架|快递柜|宣传栏|凉亭|车棚|厕所|消防栓|灭火器|喷灌|游乐|秋千|避雷针|水泵|排风扇"),
    ]
]

_COMPLAINT_KEYWORDS: list[tuple[str, re.Pattern]] = [
    (cat, re.compile(words))
    for cat, words in [
        ("safety_hazard", r"消防通道|安全出口|飞线|楼道.{0,6}(?:堆|停|充电)|杂物|高空抛物|往楼下扔|扔东西|煤气罐|电瓶|烧纸|隐患|私改燃气"),
        ("illegal_building", r"违建|违章|加盖|搭建|搭了|私搭|扩建|围起来|圈起来|阳光房|彩钢|鸽子棚|砌了"),
        ("pets", r"狗|猫|宠物|养鸡|打鸣"),
        ("business", r"饭店|餐馆|油烟|烧烤|商铺|门面|店|摊|占道经营|ktv|麻将馆|作坊|商家|小广告|卖假药"),
        ("parking", r"停车|车位|乱停|堵住|挡着|地锁|僵尸车|停在|外来车"),
        ("noise", r"吵|噪音|噪声|扰民|声音|装修|电钻|广场舞|音响|唱歌|跺脚|拖椅子|打牌|麻将|鞭炮|施工|打桩|钢琴|咚咚|轰"),
        ("sanitation", r"垃圾|臭|卫生|脏|苍蝇|蚊子|老鼠|烟头|化粪池|污水|脏水"),
        ("property_service", r"物业|保安|保洁|物业费|乱收费"),
        ("neighbours", r"邻居|楼上|楼下|隔壁|对门|吵架|纠纷|矛盾"),
    ]
]

_RED = re.compile(
    r"燃气泄漏|煤气泄漏|天然气泄漏|漏气|煤气味|燃气味|天然气味|液化气味|着火|起火|失火|火灾|冒烟|冒火花"
    r"|电梯困人|电梯.{0,4}(?:关|卡|困)(?:了|住)?(?:人|老人|小孩|孩子)|(?:关|卡|困)在电梯|被困|困住了|电线裸露|电线.{0,4}露|漏电|触电|被电"
    r"|水淹|漫水|淹了|爆管|水管爆|管子爆|水漫"
)
_YELLOW = re.compile(
    r"吵架|打架|打人|纠纷|矛盾|调解|隐患|危险|消防通道|飞线|高空抛物|砸到|咬人|摔倒|摔了"
    r"|整栋|整幢|全楼|整个小区|整个单元|好多户|多户|大面积|一片|都没水|都停电|停水|停电"
    r"|电梯.{0,4}(?:坏|停|不动)|违建|加盖|化粪池|井盖"
)

# The area ("东区", "二期") is looked for just before the number: a leading optional group
# would be tried at every position of a long message.
_AREA_BEFORE = re.compile(r"(?:[东西南北中]区|[a-z]区|\d{1,2}期|[东西南北][苑院])\s*$")
_BUILDING = re.compile(r"(?<!\d)(?P<b>\d{1,3})\s*(?:栋|号楼|幢|座)")
_UNIT = re.compile(r"(?P<u>\d{1,2})\s*单元")
_ROOM = re.compile(r"(?:单元|栋|幢|号楼)\s*(?P<r>\d{3,4})(?:室|号|房)?|(?<!\d)(?P<r2>\d{3,4})\s*(?:室|号房)")
_DASHED = re.compile(r"(?<![\d-])(?P<b>\d{1,3})-(?P<u>\d{1,2})-(?P<r>\d{3,4})(?![\d-])")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<![\d-])(0\d{2,3})[-\s]?(\d{7,8})(?![\d-])")
_TICKET_NO = re.compile(r"(?<!\d)(\d{8}-\d{4})(?!\d)")
_BARE_NUMBER = re.compile(r"(?:第|选|选择)?\s*(\d{1,3})\s*(?:个|号|项)?")
_CHECKIN = re.compile(r"签到\s*(?:码)?[:\s]*(\d{4,6})(?!\d)")
_DIGIT = re.compile(r"\d")


def extract_slots(text: str, intent: str | None = None, now: datetime | None = None) -> dict:
    """All slots found in normalised text; `grade` is set for ticket intents and alarms."""
    slots: dict = {}
    numbers = _DIGIT.search(text) is not None  # address, phone and the numbers below need a digit
    if numbers:
        slots.update(address_slots(text))
        if phone := find_phone(text):
            slots["phone"] = phone
    if now is not None and (when := parse_time(text, now)):
        slots["time"] = when
    if cat := repair_category(text):
        slots["repair_category"] = cat
    if cat := complaint_category(text):
        slots["complaint_category"] = cat
    grade_value = grade(text)
    if grade_value != "blue" or intent in TICKET_INTENTS:
        slots["grade"] = grade_value
    if not numbers:
        return slots
    if m := _TICKET_NO.search(text):
        slots["ticket_no"] = m.group(1)
    if m := _BARE_NUMBER.fullmatch(text.strip()):
        slots["number"] = int(m.group(1))
    if m := _CHECKIN.search(text):
        slots["checkin_code"] = m.group(1)
    return slots


def address_slots(text: str) -> dict:
    """building ("东区5栋"), unit (int), room ("502") and the canonical address."""
    out: dict = {}
    if m := _DASHED.search(text):
        out = {"building": f"{int(m.group('b'))}栋", "unit": int(m.group("u")), "room": m.group("r")}
    else:
        if m := _BUILDING.search(text):
            before = _AREA_BEFORE.search(text, max(0, m.start() - 4), m.start())
            area = before.group(0).strip().upper() if before else ""
            out["building"] = f"{area}{int(m.group('b'))}栋"
        if m := _UNIT.search(text):
            out["unit"] = int(m.group("u"))
        if m := _ROOM.search(text):
            out["room"] = m.group("r") or m.group("r2")
    if "building" in out or "unit" in out:
        unit = f"{out['unit']}单元" if "unit" in out else ""
        out["address"] = f"{out.get('building', '')}{unit}{out.get('room', '')}"
    return out


def find_phone(text: str) -> str | None:
    """A mainland mobile ("13812345678") or landline ("0710-3456789") number."""
    if m := _MOBILE.search(text):
        return "".join(m.groups())
    if m := _LANDLINE.search(text):
        return f"{m.group(1)}-{m.group(2)}"
    return None


def mask_phone(phone: str) -> str:
    """For logs: "13812345678" -> "138****5678"; other numbers keep 3 + last 4 digits."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


# Whether any category's words occur at all (nlp.patterns); which category comes first needs the loop.
_ANY_REPAIR = any_of(pattern for _, pattern in _REPAIR_KEYWORDS)
_ANY_COMPLAINT = any_of(pattern for _, pattern in _COMPLAINT_KEYWORDS)


def repair_category(text: str) -> str | None:
    return _first(_REPAIR_KEYWORDS, text) if _ANY_REPAIR.search(text) else None


def complaint_category(text: str) -> str | None:
    return _first(_COMPLAINT_KEYWORDS, text) if _ANY_COMPLAINT.search(text) else None


def _first(table: list[tuple[str, re.Pattern]], text: str) -> str | None:
    for category, pattern in table:
        if pattern.search(text):
            return category
    return None


def grade(text: str) -> str:
    """red: danger to life or property now; yellow: disputes, hazards, many households."""
    if _RED.search(text):
        return "red"
    if _YELLOW.search(text):
        return "yellow"
    return "blue"
