"""The intake form as pure functions: a draft, which question comes next, and validators.

In the spirit of Rasa forms: the next step is derived from what the draft still lacks, so the
bot asks only for what is missing, a correction simply changes a field, and "修改" clears one
(the form then asks for it again and comes back to the summary). Every validator takes the
resident's (normalised) text and returns a value or None; nothing here touches the database,
the dispatcher or WeChat, so all of it is tested without the endpoint.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from bot.logs import mask_phones
from bot.texts import tickets as t
from nlp.slots import (
    COMPLAINT_CATEGORY_NAMES,
    REPAIR_CATEGORY_NAMES,
    address_slots,
    complaint_category,
    find_phone,
    grade,
    mask_phone,
    repair_category,
)

ADDRESS_KEYS = ("building", "unit", "room")


@dataclass
class Draft:
    """What the resident has told us so far; stored as JSON in the dialog between messages."""

    kind: str
    description: str | None = None
    category: str | None = None
    grade: str | None = None
    building: str | None = None  # as residents say it: "3栋", "东区5栋"
    building_id: int | None = None
    checked_building: str | None = None  # the name last looked up, accepted though unregistered
    unit: int | None = None
    room: str | None = None
    place: str | None = None  # a free-text place ("小区东门") or a location message's label
    latitude: float | None = None
    longitude: float | None = None
    location_confirmed: bool = False  # False while it is only the registered address or a QR scene
    photos: list[dict[str, Any]] = field(default_factory=list)  # {"media_id", "url"}
    photo_asked: bool = False
    phone: str | None = None
    phone_consent: bool = False
    phone_asked: bool = False
    duplicate_declined: bool = False

    @property
    def needs_location(self) -> bool:
        """Suggestions are about the whole community; no place, no photo."""
        return self.kind != "suggestion"

    @property
    def needs_category(self) -> bool:
        return self.kind in ("repair", "complaint")

    @property
    def has_location(self) -> bool:
        return bool(self.building or self.unit or self.room or self.place or self.latitude is not None)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Draft":
        """A deep copy: changing the draft must not change the dialog's stored JSON in place
        (the ORM would then see no difference to save)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: copy.deepcopy(v) for k, v in data.items() if k in known})


def next_step(draft: Draft) -> str:
    """The first thing still missing; "confirm" when the summary can be shown."""
    if not draft.description:
        return "description"
    if draft.needs_location and not draft.has_location:
        return "location"
    if draft.needs_location and not draft.location_confirmed:
        return "location_confirm"
    if draft.needs_category and draft.category is None:
        return "category"
    if draft.needs_location and not draft.photos and not draft.photo_asked:
        return "photo"
    if draft.phone is None and not draft.phone_asked:
        return "phone"
    return "confirm"


# ---- words ------------------------------------------------------------------------------------

_PUNCT = re.compile(r"[\s,.!?;:，。！？；：、~～…\"'“”‘’()（）\[\]【】]+")
_TAIL = r"(?:了|吧|啦|呀|啊|的|哈)*"


def _words(pattern: str) -> re.Pattern:
    return re.compile(rf"(?:{pattern}){_TAIL}")


# One way of giving up; residents say several at once ("算了不弄了", "取消取消", "不要了谢谢").
_GIVE_UP = (r"取消(?:报修|投诉|建议|反映|提交|工单|这个|这次)?|撤销|撤回|退出|算了|不要了|cancel"
            r"|(?:不想|不用|不要|不打算|先不|暂时不|不)再?(?:报修|报|修|投诉|举报|反映|提交|弄|办|提)了?")
_THANKS = r"(?:谢谢|谢了|多谢|谢谢你|谢谢您)?"
_CANCEL = _words(rf"(?:我|那|那就|还是|就)?(?:要|想|帮我)?(?:{_GIVE_UP})(?:[了吧啊呀]*(?:{_GIVE_UP}))*[了吧啊呀]*{_THANKS}")
_CANCEL_OR_SKIP = _words(rf"(?:不用|不用了){_THANKS}")  # cancels the form, except where a question may be skipped
_SKIP = _words(r"跳过|没有|没|无|不用|不需要|不要|不留|不发|没照片|没有照片|不方便|不拍|下一步|skip")
def _run(words: str) -> re.Pattern:
    """Agreement is often several words at once ("对，就是这里", "好的，确认无误"): any run of them."""
    return _words(rf"(?:{words})(?:[的了啊呀吧]*(?:{words}))*")


_YES = _run(r"是|对|没错|嗯|好|可以|行|确认|正确|ok|yes|y|就是|就在|在这|这里|这儿|对头|没问题")
_NO = _words(r"不是|不对|错了|不在|不在这|不是这里|no|n")
_SUBMIT = _run(r"确认|确定|提交|是|对|好|可以|没问题|ok|yes|没错|行|无误")
_EDIT = _words(r"修改|改|改一下|要改|更改|我要改|我要修改|编辑|改改")
_USE_REGISTERED = _words(r"1|一|用这个|就这个|登记的|用登记的|是|是的|好|好的|可以|行|ok")
_WRONG = r"(?:不对|错了|说错了|搞错了|写错了|弄错了)"
# A correction opens the message ("不对，是4栋", "改成5栋") or follows what it corrects, and then
# says what is right ("4栋不对，是1栋", "地点不对，是4栋"; not "开关不对劲").
_CORRECTION = re.compile(
    rf"^(?:(?:{_WRONG}|不是)[的了啊]?[,，。\s]*(?:应该)?(?P<at1>是在|在)?(?:是)?"
    rf"|(?P<subject>[^,，。\s]{{1,8}}?){_WRONG}[的了啊]?[,，。\s]*(?:应该)?(?P<at3>是在|在|是)"
    r"|改成|改为|换成|更正为?|更改为|应该是|(?P<at2>应该在))\s*(?P<rest>.+)$")
_CONTRAST_TAIL = re.compile(r"[,，\s](?:应该)?(?:是在|是|在)(?P<tail>.+)$")
_PLACE_SUBJECT = re.compile(r"地点|地址|位置|地方")


def bare(text: str | None) -> str:
    """Lower case without spaces and punctuation: what word lists are compared with."""
    return _PUNCT.sub("", text or "").lower()


def is_cancel(text: str, step: str | None = None) -> bool:
    """取消 ends the form at any step; "不用了" only where nothing can be skipped."""
    word = bare(text)
    if _CANCEL.fullmatch(word):
        return True
    return bool(_CANCEL_OR_SKIP.fullmatch(word)) and step not in ("photo", "phone")


def is_skip(text: str) -> bool:
    return bool(_SKIP.fullmatch(bare(text)))


def is_yes(text: str) -> bool:
    return bool(_YES.fullmatch(bare(text)))


def is_no(text: str) -> bool:
    return bool(_NO.fullmatch(bare(text)))


def is_submit(text: str) -> bool:
    return bool(_SUBMIT.fullmatch(bare(text)))


def is_edit(text: str) -> bool:
    return bool(_EDIT.fullmatch(bare(text)))


def number_choice(text: str, count: int) -> int | None:
    """A bare "2" (or "第2个") → 2, when within 1..count."""
    m = re.fullmatch(r"(?:第|选)?(\d{1,2})(?:个|项|号)?", bare(text))
    if m and 1 <= int(m.group(1)) <= count:
        return int(m.group(1))
    return None


class Correction(NamedTuple):
    rest: str  # what the resident corrects to (normalised)
    at_place: bool  # said with 在 ("不对，在东门") or of the place ("地点不对"): a place, not a description
    words: str = ""  # the same in the resident's own words, kept as a new description


def correction(text: str, original: str | None = None) -> Correction | None:
    """"不对，是4栋" / "4栋不对，是1栋" / "改成5栋1单元" → what follows the correction marker;
    None if not one. ``original``: the message as sent, whose words a new description keeps."""
    found = _correction_parts(text)
    if found is None:
        return None
    rest, at_place = found
    own = _correction_parts(original) if original else None
    return Correction(rest, at_place, own[0] if own else rest)


def _correction_parts(text: str) -> tuple[str, bool] | None:
    m = _CORRECTION.match(text.strip())
    if not m:
        return None
    rest = m.group("rest").strip(" ,，。")
    contrast = _CONTRAST_TAIL.search(rest)  # "不是3栋，是4栋": the part after the last "，是"
    if contrast:
        rest = contrast.group("tail").strip(" ,，。")
    at_place = bool(m.group("at1") or m.group("at2") or "在" in (m.group("at3") or "")
                    or _PLACE_SUBJECT.search(m.group("subject") or "") or (contrast and "在" in contrast.group(0)))
    return (rest, at_place) if rest else None


# ---- description ------------------------------------------------------------------------------

_COMMAND = re.compile(r"(?:我|我们)?(?:要|想|想要|有个?|有一个|来)?(?:报修|报个修|投诉|举报|反映|反应|提个?建议|提个?意见"
                      r"|建议|意见)(?:一下|下)?")
_ADDRESS_OR_PHONE = re.compile(r"(?:[东西南北中]区)?\d{1,3}(?:栋|号楼|幢|座)|\d{1,2}单元|\d{3,4}(?:室|号房?)?|\d{7,}|\d+-\d+(?:-\d+)?")
_FILLER = re.compile(r"你好|您好|请问|麻烦|帮忙|帮我|谢谢|一下|我|的|了|吧|啊|呀|呢|在|是")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def describes_problem(text: str | None) -> bool:
    """Whether a message says what is wrong, beyond "我要报修" or a bare address."""
    rest = _FILLER.sub("", _ADDRESS_OR_PHONE.sub("", _COMMAND.sub("", bare(text))))
    return len(_CJK.findall(rest)) >= 2


def description_of(original: str | None, normalized: str | None = None) -> str | None:
    """The resident's own words as the description, when they describe something. The test
    reads the normalised text ("我要報修" is a bare command too); the words kept are theirs."""
    if not original:
        return None
    return original.strip() if describes_problem(original if normalized is None else normalized) else None


# ---- location ---------------------------------------------------------------------------------


def location_from(text: str) -> dict[str, Any]:
    """building / unit / room named in normalised text (empty when none)."""
    return {k: v for k, v in address_slots(text).items() if k in ADDRESS_KEYS}


def set_location(draft: Draft, said: dict[str, Any]) -> None:
    """Apply an address the resident said, level by level: a new building replaces unit and room
    too ("不对，是4栋" after "3栋2单元502" means 4栋); a new unit replaces the room; a room alone
    keeps building and unit."""
    if said.get("building"):
        draft.building, draft.building_id = said["building"], None
        draft.unit, draft.room = said.get("unit"), said.get("room")
        draft.place = draft.latitude = draft.longitude = None
    elif said.get("unit") is not None:
        draft.unit, draft.room = said["unit"], said.get("room")
    elif said.get("room"):
        draft.room = said["room"]
    draft.location_confirmed = True


def set_place(draft: Draft, place: str, latitude: float | None = None, longitude: float | None = None) -> None:
    """A place without a building: a free-text spot or a location message."""
    draft.building = draft.building_id = draft.unit = draft.room = None
    draft.place, draft.latitude, draft.longitude = place, latitude, longitude
    draft.location_confirmed = True


def clear_location(draft: Draft) -> None:
    draft.building = draft.building_id = draft.unit = draft.room = None
    draft.place = draft.latitude = draft.longitude = None
    draft.location_confirmed = False


# Words a place is named with; a place answer needs one ("小区东门", "3栋后面", "垃圾站旁边").
_PLACE_WORD = re.compile(
    r"门|楼|路|街|巷|旁|边|口|角|侧|前|后|里|内|外|上|下|对面|附近|中间|之间|车库|车棚|停车|小区|社区|广场"
    r"|院|园|场|站|厅|馆|室|房|厨|厕|卫生间|阳台|亭|廊|桥|池|坛|坪|草地|空地|墙|道|梯|井|顶|区|处|中心|超市|店|学校"
    r"|幼儿园|医院|单元|栋|号|层|家")
# … and it is not something else: a question, a wish, a problem ("还有楼梯扶手也松了").
_NOT_A_PLACE = re.compile(
    r"吗|呢|怎么|什么|为什么|咋|多久|还没|没人|谁|哪|\?|坏|漏|松|堵|裂|破|塌|断|不亮|不能|不行|不了|不动|不通|没水|没电"
    r"|停水|停电|吵|臭|脏|响|闪|冒|着火|困|报修|报|修|投诉|举报|建议|想|要|还有|也|太|很|了$")


def place_from(text: str, original: str | None = None) -> str | None:
    """A free-text place answer: a few words with a place word and nothing that makes them a
    sentence about something else ("小区东门", "3栋后面", "垃圾站旁边") — kept in the resident's
    own words — else the public spot a longer sentence names ("东门那边垃圾没人收" → "东门").
    ``text`` is normalised; None for yes/no/skip words and anything else."""
    word = bare(text)
    if is_yes(text) or is_no(text) or is_skip(text) or word in ("不知道", "不清楚", "不记得"):
        return None
    if 2 <= len(word) <= 30 and _CJK.search(word) and _PLACE_WORD.search(word) and not _NOT_A_PLACE.search(word):
        return (original if original is not None else text).strip(" ,，。")
    return public_place(text)


def looks_like_place(text: str) -> bool:
    """Whether normalised text names a place: an address or a place_from answer."""
    return bool(location_from(text)) or place_from(text) is not None


_PUBLIC_PLACE = re.compile(
    r"(?:小区|社区)(?:[东西南北正]|大)?门口?|[东西南北]门口?|大门口"
    r"|(?:小区|社区)?(?:中心广场|广场|停车场|地下车库|车库|花园|公园|绿化带|篮球场|健身区|菜市场|垃圾站|主干道|路口|人行道)")


def public_place(text: str) -> str | None:
    """A public spot named in a sentence ("小区门口好多垃圾" → "小区门口"): the place of the
    report, rather than the resident's home."""
    m = _PUBLIC_PLACE.search(text)
    return m.group(0) if m else None


def location_text(draft: Draft) -> str:
    """How the place reads back to the resident: "3栋2单元502", "小区东门"."""
    unit = t.UNIT.format(unit=draft.unit) if draft.unit is not None else ""
    address = f"{draft.building or ''}{unit}{draft.room or ''}"
    if address:
        return address
    return draft.place or (t.PLACE_FROM_MAP if draft.latitude is not None else "")


def scene_building(scene: str | None) -> str | None:
    """A building QR code's scene ("building:3栋") → "3栋"."""
    if not scene:
        return None
    value = scene.split(":", 1)[1] if scene.startswith("building:") else scene
    return address_slots(value).get("building")


def building_key(name: str) -> str:
    """Compare building names the way residents say them: "3号楼" and "3栋" are one building."""
    return address_slots(name).get("building") or name


def resolve_building(draft: Draft, buildings: dict[str, int]) -> bool:
    """Fill building_id from the community's buildings (name → id). False when the community
    lists buildings and this is none of them; with no list there is nothing to check against."""
    if not draft.building or draft.building_id is not None:
        return True
    by_key = {building_key(name): (name, id_) for name, id_ in buildings.items()}
    found = by_key.get(building_key(draft.building))
    if found:
        draft.building, draft.building_id = found
        return True
    return not buildings


# ---- category ---------------------------------------------------------------------------------


def category_names(kind: str) -> dict[str, str]:
    names = REPAIR_CATEGORY_NAMES if kind == "repair" else COMPLAINT_CATEGORY_NAMES if kind == "complaint" else {}
    return {**names, "other": t.OTHER_CATEGORY} if names else {}


def category_in(kind: str, text: str) -> str | None:
    """The category a sentence's keywords point to, for the draft's kind."""
    if kind == "repair":
        return repair_category(text)
    if kind == "complaint":
        return complaint_category(text)
    return None


def parse_category(kind: str, text: str) -> str | None:
    """A number from the list, a category's name ("照明"), or keywords ("是灯坏了")."""
    names = category_names(kind)
    if (n := number_choice(text, len(names))) is not None:
        return list(names)[n - 1]
    return category_named(kind, text) or category_in(kind, text)


def category_named(kind: str, text: str) -> str | None:
    """A category said by its name, give or take a word ("供电", "是照明", "噪音扰民的")."""
    word = bare(text)
    return next((key for key, name in category_names(kind).items()
                 if name in word and len(word) <= len(name) + 2), None)


def category_name(kind: str, category: str | None) -> str:
    return category_names(kind).get(category or "", t.OTHER_CATEGORY)


# ---- phone ------------------------------------------------------------------------------------


def parse_phone(text: str, registered: str | None) -> tuple[str, str | None] | None:
    """("use", phone) for the registered or a new number, ("skip", None), or None if unclear."""
    if phone := find_phone(bare(text)):
        return "use", phone
    if registered and _USE_REGISTERED.fullmatch(bare(text)):
        return "use", registered
    if is_skip(text) or _CANCEL_OR_SKIP.fullmatch(bare(text)):
        return "skip", None
    return None


# ---- corrections ------------------------------------------------------------------------------


LOCATION_STEPS = ("location", "location_confirm")


def apply_correction(draft: Draft, fix: Correction, step: str) -> str | None:
    """Change the field a correction names; returns the new value as read back, None if unclear.

    An address goes to the location, a phone number to the phone, a category name to the
    category; a place ("不对，在东门", or any words while the place is being asked) to the
    location; any other sentence of a few words replaces the description.
    """
    rest = fix.rest
    if draft.needs_location and (said := location_from(rest)):
        set_location(draft, said)
        return location_text(draft)
    if draft.needs_location and (fix.at_place or step in LOCATION_STEPS) and (place := place_from(rest)):
        set_place(draft, place)
        return place
    if phone := find_phone(bare(rest)):
        draft.phone, draft.phone_consent, draft.phone_asked = phone, True, True
        return mask_phone(phone)
    if draft.needs_category and (category := category_only(draft.kind, rest)):
        draft.category = category
        return category_name(draft.kind, category)
    if describes_problem(rest):  # "不对，不是灯，是电梯坏了": a new description, and its category
        draft.description = fix.words or rest
        draft.category = category_in(draft.kind, rest) or category_named(draft.kind, rest) or draft.category
        return draft.description
    if draft.needs_category and (category := category_named(draft.kind, rest)):
        draft.category = category
        return category_name(draft.kind, category)
    return None


_NAME_TAIL = re.compile(r"(?:的|类|类的|问题|方面|方面的)?(?:了|吧|啊|呀)*")


def category_only(kind: str, text: str) -> str | None:
    """A category said by its name and nothing more ("供电", "是照明的"): a change of category,
    where "电梯坏了" also says what is wrong."""
    word = re.sub(r"^(?:是|属于)", "", bare(text))
    return next((key for key, name in category_names(kind).items()
                 if word.startswith(name) and _NAME_TAIL.fullmatch(word[len(name):])), None)


# ---- answers to the questions ------------------------------------------------------------------


def answer(draft: Draft, step: str, text: str, original: str, registered_phone: str | None = None) -> bool:
    """Apply the resident's answer to a step's question; False when it does not answer it.

    text is the normalised message (for matching), original the resident's own words (kept as
    the description and as a free-text place).
    """
    if step == "description":
        return answer_description(draft, text, original)
    if step == "location":
        return answer_location(draft, text, original)
    if step == "location_confirm":
        if is_yes(text):
            draft.location_confirmed = True
            return True
        if is_no(text):
            clear_location(draft)
            return True
        return answer_location(draft, text, original)
    if step == "category":
        draft.category = parse_category(draft.kind, text)
        return draft.category is not None
    if step == "photo":
        draft.photo_asked = is_skip(text) or bool(_CANCEL_OR_SKIP.fullmatch(bare(text)))
        return draft.photo_asked
    if step == "phone":
        return answer_phone(draft, text, registered_phone)
    return False


def answer_description(draft: Draft, text: str, original: str) -> bool:
    """The description, plus whatever else the sentence says that the draft still lacks."""
    description = description_of(original, text)
    if description is None:
        return False
    draft.description = description
    if draft.category is None:
        draft.category = category_in(draft.kind, text)
    if draft.needs_location and not draft.location_confirmed and (said := location_from(text)):
        set_location(draft, said)
    elif draft.needs_location and not draft.location_confirmed and (spot := public_place(text)):
        set_place(draft, spot)
    if draft.phone is None and (phone := find_phone(bare(text))):
        draft.phone, draft.phone_consent = phone, True
    if (level := grade(text)) in ("red", "yellow") and draft.grade != "red":
        draft.grade = level
    return True


def answer_location(draft: Draft, text: str, original: str) -> bool:
    """An address, or words that look like a place; anything else is not an answer (the handler
    then sees whether it is a question about a ticket or another problem)."""
    if said := location_from(text):
        set_location(draft, said)
        return True
    if place := place_from(text, original):
        set_place(draft, place)
        return True
    return False


def add_danger(draft: Draft, text: str, original: str) -> bool:
    """Danger said in the middle of the form ("现在电线冒火花了，有烟"): its words join the
    description and the draft becomes red, to be filed at once. False if nothing new is red."""
    if draft.grade == "red" or grade(text) != "red":
        return False
    words = original.strip()
    draft.description = t.DESCRIPTION_JOINER.join(filter(None, (draft.description, words)))
    draft.grade = "red"
    draft.category = category_in(draft.kind, text) or draft.category
    return True


def answer_phone(draft: Draft, text: str, registered: str | None) -> bool:
    parsed = parse_phone(text, registered)
    if parsed is None:
        return False
    draft.phone_asked = True
    if parsed[0] == "use":
        draft.phone, draft.phone_consent = parsed[1], True
    return True


# ---- 修改: pick a field, clear it, the form asks for it again ----------------------------------


def edit_fields(draft: Draft) -> list[str]:
    fields = ["description"]
    if draft.needs_location:
        fields.append("location")
    if draft.needs_category:
        fields.append("category")
    if draft.needs_location:
        fields.append("photo")
    return fields + ["phone"]


_FIELD_WORDS = {"description": re.compile(r"问题|描述|内容|情况"), "location": re.compile(r"地点|地址|位置|楼|单元"),
                "category": re.compile(r"类别|分类|类型"), "photo": re.compile(r"照片|图片|相片"),
                "phone": re.compile(r"电话|号码|手机")}


def parse_edit_field(draft: Draft, text: str) -> str | None:
    """"2" or "改地点" → which field to ask again."""
    fields = edit_fields(draft)
    if (n := number_choice(text, len(fields))) is not None:
        return fields[n - 1]
    word = bare(text)
    return next((f for f in fields if _FIELD_WORDS[f].search(word)), None)


def clear_field(draft: Draft, name: str) -> None:
    if name == "description":
        draft.description = None
    elif name == "location":
        clear_location(draft)
    elif name == "category":
        draft.category = None
    elif name == "photo":
        draft.photos, draft.photo_asked = [], False
    elif name == "phone":
        draft.phone, draft.phone_consent, draft.phone_asked = None, False, False


# ---- what the resident reads ------------------------------------------------------------------


def numbered(options: list[str]) -> str:
    return "\n".join(f"{n}. {option}" for n, option in enumerate(options, 1))


def question(step: str, draft: Draft, registered_phone: str | None = None, *, continued: bool = False) -> str:
    """The question for a step (the summary for "confirm"); ``continued``: after another
    sentence ("好的，已改为：4栋。"), so it does not open with its own "好的"."""
    if step == "description":
        return (t.DESCRIBE if continued else t.ASK_DESCRIPTION)[draft.kind]
    if step == "location":
        return t.ASK_LOCATION
    if step == "location_confirm":
        return t.CONFIRM_LOCATION.format(place=location_text(draft))
    if step == "category":
        return t.ASK_CATEGORY.format(options=numbered(list(category_names(draft.kind).values())))
    if step == "photo":
        return t.ASK_PHOTO
    if step == "phone":
        return t.ASK_PHONE_REGISTERED.format(masked=mask_phone(registered_phone)) if registered_phone else t.ASK_PHONE
    if step == "edit":
        return t.ASK_EDIT.format(options=numbered([t.EDIT_FIELDS[f] for f in edit_fields(draft)]))
    return summary(draft)


def shown(text: str | None) -> str:
    """A resident's words as read back: mobile numbers masked (someone may be looking on)."""
    return mask_phones((text or "").strip())


def shorten(text: str | None, limit: int = 16) -> str:
    text = shown(text)
    return text if len(text) <= limit else text[:limit] + "…"


def summary(draft: Draft) -> str:
    lines = []
    if draft.needs_category:
        lines.append(t.SUMMARY_CATEGORY.format(value=category_name(draft.kind, draft.category)))
    lines.append(t.SUMMARY_DESCRIPTION.format(value=shown(draft.description)))
    if draft.needs_location:
        lines.append(t.SUMMARY_LOCATION.format(value=location_text(draft)))
        lines.append(t.SUMMARY_PHOTOS.format(value=len(draft.photos)))
    lines.append(t.SUMMARY_PHONE.format(value=mask_phone(draft.phone) if draft.phone else t.NO_PHONE))
    return t.SUMMARY.format(kind=t.KIND_WORDS[draft.kind], lines="\n".join(lines))


_FIRE = re.compile(r"着火|起火|失火|火灾|冒烟|烟很大|火苗")
_FLOOD = re.compile(r"水淹|漫水|淹了|爆管|水管爆|管子爆|水漫")
_TRAPPED = re.compile(r"困|关在|卡在|卡住")
_SHOCK = re.compile(r"漏电|触电|被电|电线裸露|电线.{0,4}露|冒火花")


def safety_advice(text: str, category: str | None) -> str:
    """What to do right now, for a red-grade report."""
    if category == "gas" or re.search(r"燃气|煤气|天然气|液化气|漏气", text):
        key = "gas"
    elif _FIRE.search(text):
        key = "fire"
    elif category == "elevator" or ("电梯" in text and _TRAPPED.search(text)):
        key = "elevator"
    elif _SHOCK.search(text):
        key = "electricity"
    elif _FLOOD.search(text):
        key = "water"
    else:
        key = "general"
    return t.SAFETY_ADVICE[key]
