"""Messages that are not text: photos, places, voice WeChat could not recognise, and the unknown."""

from __future__ import annotations

from bot import texts
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text

router = Router("media")


@router.on(kind="image")
async def image(ctx: Context) -> Reply:
    return Text(texts.IMAGE_RECEIVED)


@router.on(kind="location")
async def location(ctx: Context) -> Reply:
    label = (ctx.event.location.label if ctx.event.location else None) or "（未注明地点）"
    return Text(texts.LOCATION_RECEIVED.format(label=label))


@router.on(lambda ctx: ctx.event.kind == "voice" and not ctx.text)
async def unrecognised_voice(ctx: Context) -> Reply:
    return Text(texts.VOICE_UNCLEAR)


@router.on(kind=("video", "shortvideo", "link"))
async def other_media(ctx: Context) -> Reply:
    return Text(texts.MEDIA_RECEIVED)


@router.on(kind="unknown")
async def unsupported(ctx: Context) -> Reply:
    return Text(texts.UNSUPPORTED)


@router.on(lambda ctx: ctx.event.kind == "text" and not ctx.text)
async def empty_text(ctx: Context) -> Reply:
    return Text(texts.EMPTY_TEXT)
