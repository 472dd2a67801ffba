"""Tasks in chat for member households and grid workers: 接单, 完成, 转交, 我的任务.

Commands name the ticket number ("完成 20261123-0012 已修好") and act at once. Natural phrasings
work too ("20261123-0012 我接了", "好的，接单", "那个灯修好了") and, without a number, mean the
person's only open task — but a natural "done" without a number is asked back ("确认完成 …？")
before the ticket is resolved, since closing a ticket on a misread sentence tells the resident
their problem is solved when it is not. Sentences that only sound done ("明天就修好了") get a
hint; questions ("修好了吗") are left to the rest of the bot. The phrasings themselves are in
handlers/member_phrases.py.

Natural phrasings are read only from people holding a role, so a resident's "灯修好了" never
touches a ticket; the explicit commands from anyone else get a polite explanation. After 完成,
photos sent within the dialog's lifetime attach to the ticket; a photo sent before 完成 is
offered to the person's task instead of starting a report.

This router runs before the report form, asking back and "转人工", so "完成 … 已修好" never
becomes a new ticket and "转交 … 需要专业电工" never a thread with staff.
"""

from __future__ import annotations

import re

from bot import texts as general
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import members as t
from bot.texts import notices
from handlers import member_phrases as phrases
from handlers.intake_form import bare, shorten
from storage import tickets
from storage.members import agenda, roles, tasks
from storage.ticket_models import Ticket
from storage.tickets import lifecycle, notify

router = Router("member_tasks")

PHOTO_STATE = "task:photo"  # after 完成: photos attach to the ticket
CONFIRM_STATE = "task:confirm"  # a natural "done" without a number: 是 resolves
PHOTO_OFFER_STATE = "task:photo_offer"  # a photo before 完成: 是 attaches it
OWN_STATES = ("task:", "visit:")  # member-household steps a newer one may replace

_DIGIT = re.compile(r"\d")
_HALF_WIDTH = str.maketrans("０１２３４５６７８９－＃\u3000", "0123456789-# ")


def plain(ctx: Context) -> str:
    """The message as typed, with full-width digits made plain (Chinese punctuation is kept: the
    rest of the message is a note people read). Worked out once per message: the filters of
    this module all read it, for every message."""
    text = ctx.extras.get(_PLAIN)
    if text is None:
        typed = ctx.event.kind in ("text", "voice")
        text = ctx.extras[_PLAIN] = ctx.text.translate(_HALF_WIDTH).strip() if typed else ""
    return text


_PLAIN = "member_tasks:plain"


def free_for_us(ctx: Context) -> bool:
    """No dialog is open, or only one of ours (a photo window, an offer): a member household's
    newer step may replace it. Another dialog (a report form half filled) is never clobbered."""
    state = ctx.dialog.state if ctx.dialog is not None else None
    return state is None or state.startswith(OWN_STATES)


def start_step(ctx: Context, state: str, **data) -> None:
    """Open one of our steps afresh (goto merges data: a replaced step's must not leak in)."""
    ctx.dialog.finish()
    ctx.dialog.goto(state, **data)


def _holds_role(ctx: Context) -> bool:
    """Asked by most of this module's filters for every message; roles do not change mid-message."""
    held = ctx.extras.get(_HOLDS_ROLE)
    if held is None:
        held = ctx.extras[_HOLDS_ROLE] = roles.has_role(ctx.resident)
    return held


_HOLDS_ROLE = "member_tasks:holds_role"


def _answers(ctx: Context) -> bool:
    return ctx.event.kind in ("text", "voice") and bare(ctx.text) in phrases.YES | phrases.NO


def _takes(ctx: Context) -> bool:
    """"接单 <no>" from anyone (others are told it is not for them); natural phrasings from role holders."""
    text = plain(ctx)
    if not _numbered_or_from_holder(ctx, text):
        return False
    found = phrases.takes(text)
    return found is not None and (found[0] or _holds_role(ctx))


def _completes(ctx: Context) -> bool:
    text = plain(ctx)
    if not _numbered_or_from_holder(ctx, text):
        return False
    found = phrases.done_command(text)
    return found is not None and (found[0] or _holds_role(ctx))


def _numbered_or_from_holder(ctx: Context, text: str) -> bool:
    """What anyone may say to take, finish or hand back a task names its number: from a resident
    with no role, a message without a digit is none of them (checked first, as these filters
    see every message)."""
    return _DIGIT.search(text) is not None or _holds_role(ctx)


def _reads_done(reading: str):
    """Natural talk of finishing from a role holder — not while another dialog (a report form) is open."""
    return lambda ctx: _holds_role(ctx) and free_for_us(ctx) and phrases.done_reading(plain(ctx)) == reading


# ---- answers to what we asked (first: "是" must reach the question it answers) ---------------

def _confirms(ctx: Context) -> bool:
    """是 / 不是 — or saying it is done once more ("对，修好了")."""
    return _answers(ctx) or phrases.done_reading(plain(ctx)) == "done"


@router.on(_confirms, state=CONFIRM_STATE)
async def confirm_done(ctx: Context) -> Reply:
    data = ctx.dialog.data
    ctx.dialog.finish()
    if bare(plain(ctx)) in phrases.NO:
        return Text(t.DONE_CANCELLED.format(number=data["number"]))
    ticket = await (await ctx.db()).get(Ticket, data["ticket_id"])
    return _refusal(ctx, ticket, "resolved") or await _resolve(ctx, ticket, data["note"])


@router.on(_answers, state=PHOTO_OFFER_STATE)
async def answer_photo_offer(ctx: Context) -> Reply:
    data = ctx.dialog.data
    ctx.dialog.finish()
    if bare(ctx.text) in phrases.NO:
        return Text(t.PHOTO_NOT_ATTACHED)
    await _attach(ctx, data["ticket_id"], data.get("media_id"), data.get("url"))
    start_step(ctx, PHOTO_STATE, ticket_id=data["ticket_id"], number=data["number"])
    return Text(t.PHOTO_ATTACHED.format(number=data["number"]))


# ---- 接单 -------------------------------------------------------------------------------------

@router.on(_takes)
async def take(ctx: Context) -> Reply:
    if not _holds_role(ctx):
        return Text(t.ROLE_ONLY.format(command=t.CMD_TAKE))
    found = await _ticket(ctx, phrases.takes(plain(ctx))[1], command=t.CMD_TAKE)
    if not isinstance(found, Ticket):
        return found
    session = await ctx.db()
    if found.status not in tickets.ACTIVE:
        return Text(t.TASK_CLOSED.format(number=found.number, status=notices.STATUS_NAMES[found.status]))
    if not await tasks.may_take(session, found, ctx.resident):
        return Text(t.TASK_NOT_YOURS.format(number=found.number))
    if await tasks.taken_by(session, found, ctx.resident.id):
        return Text(t.ALREADY_ACCEPTED.format(number=found.number))
    ticket = await tasks.take(session, found, ctx.resident, now=ctx.now, settings=ctx.settings)
    info = await notify.facts(session, ticket)
    return Text(t.ACCEPTED.format(**info, due=info["resolve_due"]))


# ---- 完成 -------------------------------------------------------------------------------------

@router.on(_completes)
async def done(ctx: Context) -> Reply:
    if not _holds_role(ctx):
        return Text(t.ROLE_ONLY.format(command=t.CMD_DONE))
    _, number, note = phrases.done_command(plain(ctx))
    found = await _ticket(ctx, number, command=t.CMD_DONE)
    if not isinstance(found, Ticket):
        return found
    if not note:
        return Text(t.DONE_NEEDS_NOTE.format(number=found.number))
    return _refusal(ctx, found, "resolved") or await _resolve(ctx, found, note)


@router.on(_reads_done("done"))
async def done_naturally(ctx: Context) -> Reply:
    """"那个灯修好了": asked back for the person's only open task, the sentence as the note."""
    found = await _ticket(ctx, None, command=t.CMD_DONE)
    if not isinstance(found, Ticket):
        return found
    refusal = _refusal(ctx, found, "resolved")
    if refusal:
        return refusal
    start_step(ctx, CONFIRM_STATE, ticket_id=found.id, number=found.number, note=plain(ctx))
    return Text(t.CONFIRM_DONE.format(number=found.number, summary=notify.summary(found), note=plain(ctx)))


@router.on(_reads_done("not_yet"))
async def not_done_yet(ctx: Context) -> Reply:
    """"明天就修好了", "还没修好": nothing changes; the person learns how to report it done."""
    mine = await tasks.tasks_of(await ctx.db(), community_id=ctx.community_id, resident_id=ctx.resident.id)
    return Text(t.DONE_NOT_YET.format(number=mine[0].number) if mine else t.NO_TASKS)


async def _resolve(ctx: Context, ticket: Ticket, note: str) -> Reply:
    await tasks.complete(await ctx.db(), ticket, ctx.resident, note=note, now=ctx.now, settings=ctx.settings)
    if free_for_us(ctx):
        start_step(ctx, PHOTO_STATE, ticket_id=ticket.id, number=ticket.number)
    return Text(t.DONE.format(number=ticket.number))


# ---- photos -----------------------------------------------------------------------------------

@router.on(kind="image", state=PHOTO_STATE)
async def photo(ctx: Context) -> Reply:
    data = ctx.dialog.data
    await _attach(ctx, data["ticket_id"], ctx.event.media_id, ctx.event.media_url)
    ctx.dialog.goto(PHOTO_STATE)  # more photos may follow
    return Text(t.PHOTO_ATTACHED.format(number=data["number"]))


@router.on(lambda ctx: _holds_role(ctx) and free_for_us(ctx), kind="image")
async def photo_before_done(ctx: Context) -> Reply:
    """A site photo sent before 完成 (or after the photo window closed): offered to the person's
    task — the one in hand, or the one just finished — rather than read as a new report."""
    session = await ctx.db()
    mine = await tasks.photo_candidates(session, community_id=ctx.community_id, resident_id=ctx.resident.id,
                                        now=ctx.now)
    if not mine:
        return Text(general.IMAGE_RECEIVED)
    if len(mine) > 1:
        return Text(t.PHOTO_WHICH_TASK.format(count=len(mine), lines=_task_lines(mine)))
    ticket = mine[0]
    start_step(ctx, PHOTO_OFFER_STATE, ticket_id=ticket.id, number=ticket.number, media_id=ctx.event.media_id,
               url=ctx.event.media_url)
    return Text(t.PHOTO_OFFER.format(number=ticket.number, summary=notify.summary(ticket)))


async def _attach(ctx: Context, ticket_id: int, media_id: str | None, url: str | None) -> None:
    await tickets.attach(await ctx.db(), ticket_id=ticket_id, actor=tasks.actor_of(ctx.resident), now=ctx.now,
                         attachment=tickets.AttachmentDraft("image", media_id=media_id, url=url))


# ---- 转交 -------------------------------------------------------------------------------------

def _hands_back(ctx: Context) -> bool:
    """"转交 <no> <原因>"; without a number only from role holders ("转交给物业…" is not ours)."""
    text = plain(ctx)
    if not _numbered_or_from_holder(ctx, text):
        return False
    found = phrases.hands_back(text)
    return found is not None and (found[0] is not None or _holds_role(ctx))


@router.on(_hands_back)
async def hand_back(ctx: Context) -> Reply:
    if not _holds_role(ctx):
        return Text(t.ROLE_ONLY.format(command=t.CMD_BACK))
    number, reason = phrases.hands_back(plain(ctx))
    found = await _ticket(ctx, number, command=t.CMD_BACK)
    if not isinstance(found, Ticket):
        return found
    if not reason:
        return Text(t.TRANSFER_NEEDS_REASON.format(number=found.number))
    refusal = _refusal(ctx, found, "assigned")
    if refusal:
        return refusal
    team = await tasks.hand_back(await ctx.db(), found, ctx.resident, reason=reason, now=ctx.now,
                                 settings=ctx.settings)
    return Text(t.TRANSFERRED.format(number=found.number, to=notices.TEAM_NAMES.get(team, t.NOBODY_TO_TAKE_OVER)))


# ---- 我的任务 ----------------------------------------------------------------------------------

def _asks_for_list(ctx: Context) -> bool:
    """The command from anyone (residents hear whom it is for); looser phrasings from role holders."""
    text = plain(ctx)
    return bool(phrases.MINE.fullmatch(text)) or (_holds_role(ctx) and bool(phrases.MINE_NATURAL.fullmatch(text)))


@router.on(_asks_for_list)
async def my_tasks(ctx: Context) -> Reply:
    if not _holds_role(ctx):
        return Text(t.ROLE_ONLY.format(command=t.CMD_MINE))
    parts = await agenda.sections(await ctx.db(), ctx.resident, now=ctx.now)
    return Text(t.MY_TASKS.format(sections="\n\n".join(parts)) if parts else t.MY_TASKS_EMPTY)


# ---- shared steps -----------------------------------------------------------------------------

async def _ticket(ctx: Context, number: str | None, *, command: str) -> Ticket | Reply:
    """The ticket by number, or the person's only open task; otherwise what to say instead."""
    session = await ctx.db()
    if number:
        ticket = await tickets.ticket_by_number(session, community_id=ctx.community_id, number=number)
        return ticket if ticket is not None else Text(t.TASK_NOT_FOUND.format(number=number))
    mine = await tasks.tasks_of(session, community_id=ctx.community_id, resident_id=ctx.resident.id)
    if not mine:
        return Text(t.NO_TASKS)
    if len(mine) == 1:
        return mine[0]
    return Text(t.WHICH_TASK.format(count=len(mine), command=command, number=mine[0].number, lines=_task_lines(mine)))


def _task_lines(mine: list[Ticket]) -> str:
    return "\n".join(f"{n}. {ticket.number} {shorten(ticket.description)}" for n, ticket in enumerate(mine, 1))


def _refusal(ctx: Context, ticket: Ticket, target: str) -> Reply | None:
    """Only the assignee acts, and only while the move is allowed."""
    if ticket.assignee_resident_id != ctx.resident.id:
        return Text(t.TASK_NOT_YOURS.format(number=ticket.number))
    if not lifecycle.allowed(ticket.status, target) and ticket.status != target:
        return Text(t.TASK_CLOSED.format(number=ticket.number, status=notices.STATUS_NAMES[ticket.status]))
    return None
