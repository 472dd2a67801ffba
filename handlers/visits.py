"""Logging a follow-up visit in chat: "走访 5栋301 老人身体不错，需要买药".

The household is found among those the member household visits: by name ("走访 王奶奶 …"), by
address (building, unit, room), or — when it visits only one — without either. The note is
recorded against the visit that is due (storage/members/visits.py). A note that says something
needs doing ("需要…", "水管漏了", "药吃完了" — but not "不需要帮助") is offered as a ticket
(handlers/member_phrases.need_in); "是" files it, with the visit as its source, so answering
twice never files two. The offer replaces a member household's own open step (the photo window
after 完成), never someone else's dialog.
"""

from __future__ import annotations

import re

from nlp.slots import address_slots, complaint_category, repair_category
from nlp.normalize import normalize

from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import members as t
from handlers import member_phrases as phrases
from handlers.intake_form import bare, building_key
from handlers.member_tasks import free_for_us, plain, start_step
from storage import tickets
from storage.member_models import CareHousehold, Visit
from storage.members import roles, visits

router = Router("visits")

TICKET_STATE = "visit:ticket"
_VISIT = re.compile(r"(?:走访|入户走访|探访)(?:了|过)?\s*[:：]?\s*(.*)", re.S)
_ADDRESS_HEAD = re.compile(r"(?:[东西南北中]区)?\d{1,3}\s*(?:栋|号楼|幢|座|-)\s*(?:\d{1,2}\s*(?:单元|-)\s*)?"
                           r"(?:\d{3,4}\s*(?:室|号|房)?)?")


def _logs_visit(ctx: Context) -> bool:
    return roles.has_role(ctx.resident, roles.MEMBER) and bool(_VISIT.fullmatch(plain(ctx)))


def _answers_offer(ctx: Context) -> bool:
    return (ctx.dialog is not None and ctx.dialog.state == TICKET_STATE and ctx.event.kind in ("text", "voice")
            and bare(ctx.text) in phrases.YES | phrases.NO)


@router.on(_logs_visit)
async def log_visit(ctx: Context) -> Reply:
    rest = _VISIT.fullmatch(plain(ctx)).group(1).strip()
    session = await ctx.db()
    mine = await visits.households_of(session, ctx.resident.id)
    if not mine:
        return Text(t.VISIT_NONE_ASSIGNED)
    matched = await _match(session, mine, rest)
    if len(matched) != 1:
        lines = await _household_lines(session, mine)
        if not matched:
            what = address_slots(normalize(rest)).get("address") or rest or t.VISIT_SOMEONE
            return Text(t.VISIT_NOT_FOUND.format(what=what, lines=lines))
        example = (await visits.facts(session, matched[0])).place
        return Text(t.VISIT_WHICH.format(example=example, lines=lines))
    household = matched[0]
    note = _note(rest, household)
    if not note:
        return Text(t.VISIT_NEEDS_NOTE.format(place=(await visits.facts(session, household)).place))
    visit, upcoming = await visits.log_visit(session, household, by=ctx.resident, note=note, now=ctx.now,
                                             settings=ctx.settings)
    return Text(_logged_text(ctx, household, visit, upcoming) + _offer(ctx, visit, note))


async def _match(session, mine: list[CareHousehold], rest: str) -> list[CareHousehold]:
    by_name = [h for h in mine if h.name and h.name in rest]
    if by_name:
        return by_name
    said = address_slots(normalize(rest))
    if not said:
        return mine  # one: that one; several: ask which
    found = []
    for household in mine:
        place = address_slots(normalize(await visits.place_of(session, household)))
        if said.get("building") and building_key(said["building"]) != building_key(place.get("building", "")):
            continue
        if all(said.get(k) is None or said[k] == place.get(k) for k in ("unit", "room")):
            found.append(household)
    return found


def _note(rest: str, household: CareHousehold) -> str:
    """What was said about the visit: the words after the household's name or address."""
    text = rest.strip()
    if household.name and text.startswith(household.name):
        text = text[len(household.name):]
    elif m := _ADDRESS_HEAD.match(text):
        text = text[m.end():]
    return text.strip(" ,，。:：;；")


async def _household_lines(session, mine: list[CareHousehold]) -> str:
    lines = []
    for n, household in enumerate(mine, 1):
        lines.append(t.HOUSEHOLD_LINE.format(n=n, **(await visits.facts(session, household)).as_dict()))
    return "\n".join(lines)


def _logged_text(ctx: Context, household: CareHousehold, visit: Visit, upcoming: Visit | None) -> str:
    nxt = t.VISIT_NEXT.format(day=visits.day_text(upcoming.due_date)) if upcoming else ""
    if visit.due_date < visits.local_today(ctx.now):
        return t.VISIT_LOGGED_LATE.format(household=household.name, due=visits.day_text(visit.due_date), next=nxt)
    return t.VISIT_LOGGED.format(household=household.name, next=nxt)


def _offer(ctx: Context, visit: Visit, note: str) -> str:
    """When the note says something needs doing, offer to file it as a ticket."""
    need = phrases.need_in(note)
    if need is None or not free_for_us(ctx):
        return ""
    start_step(ctx, TICKET_STATE, visit_id=visit.id, note=note)
    return t.VISIT_OFFER_TICKET.format(need=need)


def _kind_of(note: str) -> tuple[str, str | None]:
    """A repair when the note names something broken; otherwise a request (诉求) filed as a complaint."""
    if category := repair_category(note):
        return "repair", category
    return "complaint", complaint_category(note)


@router.on(_answers_offer)
async def answer_offer(ctx: Context) -> Reply:
    data = ctx.dialog.data
    ctx.dialog.finish()
    if bare(ctx.text) in phrases.NO:
        return Text(t.VISIT_TICKET_SKIPPED)
    session = await ctx.db()
    visit = await session.get(Visit, data["visit_id"])
    household = await session.get(CareHousehold, visit.care_household_id)
    info = await visits.facts(session, household)
    note = data["note"]
    kind, category = _kind_of(note)
    draft = tickets.TicketDraft(kind=kind, category=category,
                                description=t.VISIT_TICKET_DESCRIPTION.format(household=info.household,
                                                                              category=info.category, note=note),
                                building_id=household.building_id, unit=household.unit, room=household.room,
                                address=info.place if info.place != t.NO_PLACE else None,
                                source_key=f"visit:{visit.id}")
    ticket = await tickets.create_ticket(session, community_id=ctx.community_id, reporter=ctx.resident, draft=draft,
                                         now=ctx.now, settings=ctx.settings)
    visit.ticket_id = ticket.id
    return Text(t.VISIT_TICKET_CREATED.format(number=ticket.number, expected=tickets.expected_date_text(ticket)))
