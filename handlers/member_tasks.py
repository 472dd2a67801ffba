"""Tasks in chat for member households and grid workers: 接单, 完成, 转交, 我的任务.

Commands name the ticket number ("完成 20261123-0012 已修好"); natural phrasings work too
("20261123-0012 我接了", "那个灯修好了") and, without a number, mean the person's only open
task. Natural phrasings are read only from people holding a role, so a resident's "灯修好了"
never touches a ticket; the explicit commands from anyone else get a polite explanation. After
完成, photos sent within the dialog's lifetime attach to the ticket.

This router runs before the report form and asking back, so "完成 … 已修好" never becomes a new
ticket.
"""

from __future__ import annotations

import re

from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import members as t
from bot.texts import notices
from handlers.intake_form import shorten
from storage import tickets
from storage.members import agenda, roles, tasks
from storage.ticket_models import Ticket
from storage.tickets import lifecycle, notify

router = Router("member_tasks")

PHOTO_STATE = "task:photo"
NUMBER = r"(\d{8}-\d{4})"
_SEP = r"\s*[:：#,，。]?\s*"
_TAKE = re.compile(rf"(?:接单|我接单|领单|接)\s*[:：#]?\s*{NUMBER}[。!！]*")
_TAKE_NUMBER_FIRST = re.compile(rf"{NUMBER}\s*(?:我接了|我接|我来|我来处理|我去处理|接了|收到)[。!！]*")
_TAKE_BARE = re.compile(r"(?:我接了|这单我接了|我来处理|我去处理|我接单|接单)[。!！]*")
_DONE = re.compile(rf"(?:完成|已完成|办结|处理完成|已处理)\s*[:：#]?\s*{NUMBER}{_SEP}(.*)", re.S)
_DONE_NUMBER_FIRST = re.compile(rf"{NUMBER}{_SEP}(.*(?:好了|完了|解决了|搞定了|办好了|处理了).*)", re.S)
_DONE_NATURAL = re.compile(r"(?<![没未不])(?:修好|弄好|处理好|解决好?|搞定|办好|换好|清理好|疏通好?|处理完)了")
_BACK = re.compile(rf"转交\s*[:：#]?\s*{NUMBER}?{_SEP}(.*)", re.S)
_MINE = re.compile(r"(?:我的任务|任务列表|查任务|查看任务|我的待办|待办事项|我的走访)[。?？]*")


_HALF_WIDTH = str.maketrans("０１２３４５６７８９－＃\u3000", "0123456789-# ")


def plain(ctx: Context) -> str:
    """The message as typed, with full-width digits made plain (Chinese punctuation is kept: the
    rest of the message is a note people read)."""
    if ctx.event.kind not in ("text", "voice"):
        return ""
    return ctx.text.translate(_HALF_WIDTH).strip()


def _holds_role(ctx: Context) -> bool:
    return roles.has_role(ctx.resident)


def _takes(ctx: Context) -> bool:
    """"接单 <no>" from anyone (others are told it is not for them); natural phrasings from role holders."""
    text = plain(ctx)
    natural = _TAKE_NUMBER_FIRST.fullmatch(text) or _TAKE_BARE.fullmatch(text)
    return bool(_TAKE.fullmatch(text)) or (_holds_role(ctx) and bool(natural))


def _completes(ctx: Context) -> bool:
    text = plain(ctx)
    return bool(_DONE.fullmatch(text)) or (_holds_role(ctx) and bool(_DONE_NUMBER_FIRST.fullmatch(text)))


def _natural_done(ctx: Context) -> bool:
    return _holds_role(ctx) and bool(_DONE_NATURAL.search(plain(ctx)))


# ---- 接单 -------------------------------------------------------------------------------------

@router.on(_takes)
async def take(ctx: Context) -> Reply:
    if not _holds_role(ctx):
        return Text(t.ROLE_ONLY.format(command="接单"))
    m = _TAKE.fullmatch(plain(ctx)) or _TAKE_NUMBER_FIRST.fullmatch(plain(ctx))
    found = await _ticket(ctx, m.group(1) if m else None, command="接单")
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
        return Text(t.ROLE_ONLY.format(command="完成"))
    m = _DONE.fullmatch(plain(ctx)) or _DONE_NUMBER_FIRST.fullmatch(plain(ctx))
    return await _complete(ctx, m.group(1), m.group(2).strip())


@router.on(_natural_done)
async def done_naturally(ctx: Context) -> Reply:
    """"那个灯修好了": the person's only open task, with the whole sentence as the note."""
    return await _complete(ctx, None, plain(ctx))


async def _complete(ctx: Context, number: str | None, note: str) -> Reply:
    found = await _ticket(ctx, number, command="完成")
    if not isinstance(found, Ticket):
        return found
    if not note:
        return Text(t.DONE_NEEDS_NOTE.format(number=found.number))
    refusal = _refusal(ctx, found, "resolved")
    if refusal:
        return refusal
    await tasks.complete(await ctx.db(), found, ctx.resident, note=note, now=ctx.now, settings=ctx.settings)
    if not ctx.dialog.state or ctx.dialog.state == PHOTO_STATE:
        ctx.dialog.goto(PHOTO_STATE, ticket_id=found.id, number=found.number)
    return Text(t.DONE.format(number=found.number))


@router.on(kind="image", state=PHOTO_STATE)
async def photo(ctx: Context) -> Reply:
    data = ctx.dialog.data
    await tickets.attach(await ctx.db(), ticket_id=data["ticket_id"], actor=tasks.actor_of(ctx.resident), now=ctx.now,
                         attachment=tickets.AttachmentDraft("image", media_id=ctx.event.media_id,
                                                            url=ctx.event.media_url))
    ctx.dialog.goto(PHOTO_STATE)  # more photos may follow
    return Text(t.PHOTO_ATTACHED.format(number=data["number"]))


# ---- 转交 -------------------------------------------------------------------------------------

def _hands_back(ctx: Context) -> bool:
    """"转交 <no> <原因>"; without a number only from role holders ("转交给物业…" is not ours)."""
    m = _BACK.fullmatch(plain(ctx))
    return bool(m) and (m.group(1) is not None or _holds_role(ctx))


@router.on(_hands_back)
async def hand_back(ctx: Context) -> Reply:
    if not _holds_role(ctx):
        return Text(t.ROLE_ONLY.format(command="转交"))
    m = _BACK.fullmatch(plain(ctx))
    found = await _ticket(ctx, m.group(1), command="转交")
    if not isinstance(found, Ticket):
        return found
    reason = m.group(2).strip()
    if not reason:
        return Text(t.TRANSFER_NEEDS_REASON.format(number=found.number))
    refusal = _refusal(ctx, found, "assigned")
    if refusal:
        return refusal
    team = await tasks.hand_back(await ctx.db(), found, ctx.resident, reason=reason, now=ctx.now,
                                 settings=ctx.settings)
    return Text(t.TRANSFERRED.format(number=found.number, to=notices.TEAM_NAMES.get(team, t.NOBODY_TO_TAKE_OVER)))


# ---- 我的任务 ----------------------------------------------------------------------------------

@router.on(lambda ctx: bool(_MINE.fullmatch(plain(ctx))))
async def my_tasks(ctx: Context) -> Reply:
    if not _holds_role(ctx):
        return Text(t.ROLE_ONLY.format(command="我的任务"))
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
    lines = "\n".join(f"{n}. {ticket.number} {shorten(ticket.description)}" for n, ticket in enumerate(mine, 1))
    return Text(t.WHICH_TASK.format(count=len(mine), command=command, number=mine[0].number, lines=lines))


def _refusal(ctx: Context, ticket: Ticket, target: str) -> Reply | None:
    """Only the assignee acts, and only while the move is allowed."""
    if ticket.assignee_resident_id != ctx.resident.id:
        return Text(t.TASK_NOT_YOURS.format(number=ticket.number))
    if not lifecycle.allowed(ticket.status, target) and ticket.status != target:
        return Text(t.TASK_CLOSED.format(number=ticket.number, status=notices.STATUS_NAMES[ticket.status]))
    return None
