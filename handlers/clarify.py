"""Unsure what the resident wants? Ask back with numbered choices instead of guessing."""

from __future__ import annotations

from bot import texts
from bot.dispatcher.context import Context
from bot.dispatcher.middlewares import CLARIFY_STATE
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from handlers.misunderstood import not_understood

router = Router("clarify")

_NOT_OFFERED = {"other", "greeting"}


def _unsure(ctx: Context) -> bool:
    return (ctx.nlu is not None and not ctx.nlu.confident and ctx.event.kind in ("text", "voice")
            and bool(_choices(ctx)))


def _choices(ctx: Context) -> list[str]:
    return [intent for intent, _ in ctx.nlu.alternatives if intent not in _NOT_OFFERED][:3]


@router.on(_unsure)
async def ask_back(ctx: Context) -> Reply:
    options = _choices(ctx)
    ctx.dialog.goto(CLARIFY_STATE, options=options, text=ctx.text)
    listed = "\n".join(f"{n}. {texts.INTENT_LABELS[intent]}" for n, intent in enumerate(options, 1))
    return not_understood(ctx, Text(texts.CLARIFY.format(options=listed)))
