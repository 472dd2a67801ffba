"""Hand-off to a person: while a thread is with staff the bot stays quiet."""

from __future__ import annotations

import re
from datetime import timedelta

from bot import office_hours, texts
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text

router = Router("handoff")

_BACK_TO_BOT = re.compile(r"^\s*(返回|结束人工|退出人工|回到自助)\s*$")


def _in_handoff(ctx: Context) -> bool:
    if ctx.dialog is None or not ctx.dialog.in_handoff or ctx.event.is_event:
        return False
    timeout = timedelta(minutes=ctx.settings.dialog.handoff_timeout_minutes)
    started = ctx.dialog.row.handoff_at
    if started is not None and ctx.now - started > timeout:
        ctx.dialog.end_handoff()
        return False
    return True


@router.on(_in_handoff)
async def while_with_staff(ctx: Context) -> Reply | None:
    if _BACK_TO_BOT.match(ctx.text):
        ctx.dialog.end_handoff()
        return Text(texts.HANDOFF_ENDED)
    if ctx.intent == "handoff":
        return Text(texts.HANDOFF_ALREADY)
    return None  # staff read it in the thread


@router.on(intent="handoff")
async def to_staff(ctx: Context) -> Reply:
    ctx.dialog.finish()
    ctx.dialog.start_handoff()
    return Text(with_office_hours(ctx, texts.HANDOFF_STARTED))


def with_office_hours(ctx: Context, message: str) -> str:
    """Outside office hours the resident also learns when someone will answer."""
    note = office_hours.off_hours_note(ctx.now, ctx.settings.console.office_hours)
    return f"{message}\n{note}" if note else message
