"""Hand-off to a person: while a thread is with staff the bot stays quiet.

The bot takes the resident back ("silence timeout") only after ``[dialog]
handoff_timeout_minutes`` of office time in which nobody wrote: neither the resident nor staff.
Counting office time (bot/office_hours.silence_deadline) is what keeps an evening request with
staff until they come in — a follow-up at 22:30 is a message for them, not a new repair form —
and every message the resident sends while waiting restarts the count, so what they write is
never taken by the bot while staff still owe an answer.
"""

from __future__ import annotations

import re

from bot import office_hours, texts
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text

router = Router("handoff")  # while with staff: comes first
requests = Router("handoff.requests")  # "转人工": after member households' commands (handlers/__init__.py)

_BACK_TO_BOT = re.compile(r"^\s*(返回|结束人工|退出人工|回到自助)\s*$")


def _in_handoff(ctx: Context) -> bool:
    if ctx.dialog is None or not ctx.dialog.in_handoff or ctx.event.is_event:
        return False
    deadline = office_hours.silence_deadline(ctx.dialog.row, ctx.settings)
    if deadline is not None and ctx.now > deadline:
        ctx.dialog.end_handoff()
        return False
    return True


@router.on(_in_handoff)
async def while_with_staff(ctx: Context) -> Reply | None:
    if _BACK_TO_BOT.match(ctx.text):
        ctx.dialog.end_handoff()
        return Text(texts.HANDOFF_ENDED)
    _keep_alive(ctx)
    if ctx.intent == "handoff":
        return Text(with_office_hours(ctx, texts.HANDOFF_ALREADY))
    return None  # staff read it in the thread


def _keep_alive(ctx: Context) -> None:
    """The resident is still writing to staff: the silence timeout starts again."""
    ctx.dialog.row.handoff_active_at = ctx.now
    ctx.dialog.changed = True


@requests.on(intent="handoff")
async def to_staff(ctx: Context) -> Reply:
    ctx.dialog.finish()
    ctx.dialog.start_handoff()
    return Text(with_office_hours(ctx, texts.HANDOFF_STARTED))


def with_office_hours(ctx: Context, message: str) -> str:
    """Outside office hours the resident also learns when someone will answer."""
    note = office_hours.off_hours_note(ctx.now, ctx.settings.console.office_hours, ctx.settings.tickets)
    return f"{message}\n{note}" if note else message
