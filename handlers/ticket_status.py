"""我的工单, 工单 <number>, and free questions about a ticket — answered from the real tickets.

A resident sees only tickets they reported or joined; someone else's number gets the same polite
"not found" as a wrong one, so numbers cannot be used to read other people's reports. Who joined
a neighbour's ticket sees its building and category, status and deadline — never the reporter's
flat or words (a description may hold a name or a phone number).
"""

from __future__ import annotations

from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import tickets as t
from handlers import ticket_match
from handlers.intake_form import category_name, number_choice, public_place, shorten, shown
from nlp import rules
from storage import tickets
from storage.tickets import places

router = Router("ticket_status")

PICK_STATE = "tickets:pick"
DONE = frozenset({"resolved", "feedback", "closed"})  # no deadline left to show
AWAITING_RATING = frozenset({"resolved", "feedback"})


def _picking(ctx: Context) -> bool:
    return (ctx.dialog is not None and ctx.dialog.state == PICK_STATE and ctx.event.kind in ("text", "voice")
            and number_choice(ctx.text, 99) is not None)


def _asks_for_list(ctx: Context) -> bool:
    """"我的工单", "查进度", the menu button: a command, not a question about one ticket."""
    if ctx.event.kind not in ("text", "voice"):
        return True
    hit = rules.match(ctx.nlu.normalized) if ctx.nlu.normalized else None
    return hit is not None and hit.intent == "ticket_status"


@router.on(_picking)
async def picked(ctx: Context) -> Reply:
    numbers = ctx.dialog.data.get("numbers") or []
    choice = number_choice(ctx.text, len(numbers))
    if choice is None:
        return Text(t.PICK_OUT_OF_RANGE.format(count=len(numbers)))
    ctx.dialog.finish()
    return await _show(ctx, numbers[choice - 1])


def _names_a_number(ctx: Context) -> bool:
    return ctx.nlu is not None and bool(ctx.nlu.slots.get("ticket_no"))


@router.on(_names_a_number, intent="ticket_status")
async def by_number(ctx: Context) -> Reply:
    return await _show(ctx, ctx.nlu.slots["ticket_no"])


@router.on(_asks_for_list, intent="ticket_status")
async def my_tickets(ctx: Context) -> Reply:
    open_ = await tickets.open_tickets_for(await ctx.db(), community_id=ctx.community_id, resident_id=ctx.resident.id)
    if not open_:
        return Text(t.NO_OPEN_TICKETS)
    return Text(t.OPEN_TICKETS.format(count=len(open_), lines=await _lines(ctx, open_), hint=_offer_pick(ctx, open_)))


@router.on(intent="ticket_status")
async def question(ctx: Context) -> Reply:
    """"我上周报修的灯怎么还没人修": the open ticket the time, category and words point to."""
    open_ = await tickets.open_tickets_for(await ctx.db(), community_id=ctx.community_id, resident_id=ctx.resident.id)
    if not open_:
        return Text(t.NO_MATCHING_TICKET)
    matches = ticket_match.best_matches([(_score(ctx, ticket), ticket) for ticket in open_])
    if len(matches) == 1:
        return Text(await detail(await ctx.db(), matches[0], ctx.resident.id))
    if not matches:
        return Text(t.NOT_MATCHED_LIST.format(lines=await _lines(ctx, open_), hint=_offer_pick(ctx, open_)))
    return Text(t.SEVERAL_MATCHED.format(count=len(matches), lines=await _lines(ctx, matches),
                                         hint=_offer_pick(ctx, matches)))


def _score(ctx: Context, ticket) -> int:
    slots = ctx.nlu.slots
    text = ctx.nlu.normalized or ctx.text
    return ticket_match.score(
        created_at=ticket.created_at, kind=ticket.kind, category=ticket.category, description=ticket.description or "",
        question=text, words=ctx.services.nlu.tokenize(text),
        categories={slots[k] for k in ("repair_category", "complaint_category") if slots.get(k)},
        window=ticket_match.past_window(text, ctx.now))


async def _show(ctx: Context, number: str) -> Reply:
    session = await ctx.db()
    ticket = await tickets.ticket_by_number(session, community_id=ctx.community_id, number=number)
    if ticket is None or _reporter(ticket, ctx.resident.id) is None:
        return Text(t.TICKET_NOT_FOUND.format(number=number))
    return Text(await detail(session, ticket, ctx.resident.id))


def _reporter(ticket, resident_id: int):
    """The resident's reporter row on the ticket (they reported or joined it), if any."""
    return next((r for r in ticket.reporters if r.resident_id == resident_id), None)


def _offer_pick(ctx: Context, listed: list) -> str:
    """Reply with a number to see one — unless a form is open, which a list must not end."""
    if ctx.dialog.state and ctx.dialog.state != PICK_STATE:
        return t.NUMBER_HINT
    ctx.dialog.goto(PICK_STATE, numbers=[ticket.number for ticket in listed])
    return t.PICK_HINT


async def _lines(ctx: Context, listed: list) -> str:
    session = await ctx.db()
    return "\n".join([t.TICKET_LINE.format(n=n, number=ticket.number,
                                            description=await brief(session, ticket, ctx.resident.id),
                                            status=tickets.STATUS_NAMES.get(ticket.status, ticket.status),
                                            expected=_expected(ticket))
                      for n, ticket in enumerate(listed, 1)])


def reported(ticket, resident_id: int) -> bool:
    """Whether the resident filed the ticket (rather than joined a neighbour's)."""
    row = _reporter(ticket, resident_id)
    return ticket.reporter_resident_id == resident_id or bool(row is not None and row.original)


async def shared_place(session, ticket) -> str:
    """Where someone else's ticket is, as a joiner may see it: the building, or the public spot
    of an outdoor report ("小区东门"), never the flat or the reporter's own words."""
    return (await places.building_name(session, ticket.building_id) or public_place(ticket.address or "")
            or t.SHARED_AREA)


async def shared_label(session, ticket) -> str:
    """Someone else's ticket in a line: "3栋·渗漏"."""
    return t.SHARED_LABEL.format(place=await shared_place(session, ticket),
                                 category=category_name(ticket.kind, ticket.category))


async def brief(session, ticket, resident_id: int) -> str:
    """A ticket in a list: the resident's own words if it is theirs, else its shared label."""
    return shorten(ticket.description) if reported(ticket, resident_id) else await shared_label(session, ticket)


def _expected(ticket) -> str:
    if ticket.status in DONE:
        return t.LINE_DONE
    return t.LINE_EXPECTED.format(expected=tickets.expected_date_text(ticket))


async def detail(session, ticket, resident_id: int) -> str:
    """One ticket; to a resident who joined it, without the reporter's words and flat."""
    own = reported(ticket, resident_id)
    kind = tickets.KIND_NAMES.get(ticket.kind, ticket.kind)
    if ticket.category and ticket.category != "other":
        kind = t.KIND_WITH_CATEGORY.format(kind=kind, category=category_name(ticket.kind, ticket.category))
    lines = [t.DETAIL_KIND.format(value=kind)]
    if own:
        lines.append(t.DETAIL_DESCRIPTION.format(value=shown(ticket.description)))
    where = ticket.address if own else await shared_place(session, ticket)
    if where:
        lines.append(t.DETAIL_LOCATION.format(value=where))
    lines.append(t.DETAIL_STATUS.format(value=tickets.STATUS_NAMES.get(ticket.status, ticket.status)))
    if ticket.status not in DONE:
        lines.append(t.DETAIL_EXPECTED.format(value=tickets.expected_date_text(ticket)))
    elif ticket.status in AWAITING_RATING and getattr(_reporter(ticket, resident_id), "rating", "") is None:
        lines.append(t.DETAIL_RATE_HINT)
    return t.TICKET_DETAIL.format(number=ticket.number, lines="\n".join(lines))
