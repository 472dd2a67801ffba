"""Subscription and menu events."""

from __future__ import annotations

from bot import texts
from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from storage import outbox, residents

router = Router("events")


def _community_name(ctx: Context) -> str:
    return next(c.name for c in ctx.settings.communities
                if c.slug == ctx.services.account(ctx.event.account).community)


@router.on(event="subscribe")
async def subscribed(ctx: Context) -> Reply:
    resident = ctx.resident
    resident.subscribed = True
    resident.subscribed_at = ctx.now
    resident.unsubscribed_at = None
    if ctx.event.scene:
        resident.qr_scene = ctx.event.scene
        return Text(texts.WELCOME_WITH_BUILDING.format(community=_community_name(ctx), scene=ctx.event.scene))
    return Text(texts.WELCOME.format(community=_community_name(ctx)))


@router.on(event="scan")
async def scanned(ctx: Context) -> Reply | None:
    if not ctx.event.scene:
        return None
    ctx.resident.qr_scene = ctx.event.scene
    return Text(texts.SCAN_RECORDED.format(scene=ctx.event.scene))


@router.on(event="unsubscribe")
async def unsubscribed(ctx: Context) -> None:
    """Stop every outbound message to this resident; WeChat ignores any reply to this event."""
    session = await ctx.db()
    await residents.mark_unsubscribed(session, community_id=ctx.community_id, openid=ctx.event.openid,
                                      now=ctx.now)
    ctx.resident.subscribed = False
    await outbox.cancel_pending(session, account=ctx.event.account, openid=ctx.event.openid)
    ctx.dialog.finish()
    return None


@router.on(lambda ctx: ctx.intent is None, event="click")
async def unknown_menu_key(ctx: Context) -> Reply:
    return Text(texts.GREETING)


@router.on(event=("view", "location", "other"))
async def silent_event(ctx: Context) -> None:
    """Page views, location reports and delivery receipts are logged, not answered."""
    return None
