"""Hello, thanks, help and the menu."""

from __future__ import annotations

import re

from bot import texts
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text

router = Router("greeting")

_THANKS = re.compile(r"(谢谢|多谢|感谢|辛苦了|谢了)")


@router.on(intent="greeting")
async def greet(ctx: Context) -> Reply:
    if _THANKS.search(ctx.text):
        return Text(texts.THANKS)
    return Text(texts.GREETING)
