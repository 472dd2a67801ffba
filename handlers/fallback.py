"""Everything no other handler took: acknowledged, kept on the message log for staff."""

from __future__ import annotations

from bot import texts
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from handlers.misunderstood import not_understood

router = Router("fallback")


@router.on(kind=("text", "voice"))
async def acknowledge(ctx: Context) -> Reply:
    return not_understood(ctx, Text(texts.ACKNOWLEDGED))
