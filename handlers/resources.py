"""The resources list (资源清单) in chat: "我会修电器，周末有空" puts skills and free time on the list
staff search when matching a need ("who can fix a rice cooker on Saturday?").

The parser is deliberately plain: a clause that starts with 我会/擅长/我是… names skills; a clause
with 有空/有时间… names free time, kept as the time words the resident used. It reads the
normalised message (simplified characters, half-width punctuation), so "我會修電器，週末有空"
registers the same skills and times as "我会修电器，周末有空".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import points as t
from handlers.points import said
from handlers.volunteer import free_command
from storage.points import resources

router = Router("resources")

_CLAUSES = re.compile(r"[,，。.;；!！\s]+")
_SKILL = re.compile(r"^(?:我|本人)?(?:也|还)?(?:会|能|擅长|懂|学过|做过|干过|以前是|退休前是|是(?:一名|一个|个|名)?)(?P<what>.+)$")
_SKILL_SPLIT = re.compile(r"[、和跟及与/]|还会|也会")
_SKILL_TRIM = re.compile(r"^(?:一点|一些|点儿?|些)|(?:的|一点|一些)$")
_FREE = re.compile(r"有空|有时间|空闲|方便|能来|可以来|能参加|可以参加")
_TIME_WORDS = re.compile(r"周末|双休日?|节假日|假期|工作日|周[一二三四五六日天]|星期[一二三四五六日天]|每天|天天|平时|白天|"
                         r"早上|上午|中午|下午|傍晚|晚上|随时")
_QUESTION = re.compile(r"[吗呢？?]|怎么|什么|哪|多少|能不能|可不可以")
_WANTS_TO_VOLUNTEER = re.compile(r"(?:想|要|愿意)(?:当|做|成为)?志愿者|登记(?:技能|特长|资源)|加入志愿(?:者|队|服务)")
_NOT_OFFERS = frozenset({"complaint", "repair", "handoff", "ticket_status", "points_query"})


@dataclass(frozen=True)
class Offer:
    skills: list[str]
    availability: list[str]


def parse_offer(text: str) -> Offer | None:
    """Skills and free time in a resident's own words, or None when the message offers neither."""
    if _QUESTION.search(text):
        return None
    skills: list[str] = []
    times: list[str] = []
    for clause in filter(None, _CLAUSES.split(text)):
        if _FREE.search(clause):
            times.append("".join(_TIME_WORDS.findall(clause)) or t.ANY_TIME)
        elif m := _SKILL.match(clause):
            skills.extend(_skills(m.group("what")))
    if not skills and not times:
        return None
    return Offer(list(dict.fromkeys(skills)), list(dict.fromkeys(times)))


def _skills(what: str) -> list[str]:
    parts = (_SKILL_TRIM.sub("", part).strip() for part in _SKILL_SPLIT.split(what))
    return [part for part in parts if 1 <= len(part) <= 12 and not re.search(r"\d", part)]


def _offering(ctx: Context) -> bool:
    if ctx.event.kind not in ("text", "voice") or ctx.intent in _NOT_OFFERS:
        return False
    if (ctx.nlu is not None and ctx.nlu.slots.get("action")) or free_command(ctx) is not None:
        return False  # a command ("报名 3", "签到 4821", "我能参加3号活动")
    offer = parse_offer(said(ctx))
    return offer is not None and bool(offer.availability or ctx.intent == "volunteer_signup")


@router.on(_offering)
async def register(ctx: Context) -> Reply:
    offer = parse_offer(said(ctx))
    entry = await resources.register(await ctx.db(), community_id=ctx.community_id, resident_id=ctx.resident.id,
                                     skills=offer.skills, availability=offer.availability, said=ctx.text,
                                     now=ctx.now)
    return Text(t.OFFER_RECORDED.format(skills="、".join(entry.skills) or t.OFFER_NOT_SAID,
                                        times="、".join(entry.availability) or t.OFFER_NOT_SAID))


@router.on(lambda ctx: ctx.intent not in _NOT_OFFERS and bool(_WANTS_TO_VOLUNTEER.search(said(ctx))),
           kind=("text", "voice"))
async def ask_for_offer(ctx: Context) -> Reply:
    return Text(t.OFFER_ASK)
