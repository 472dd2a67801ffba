"""Taking a role in chat ("绑定 123456") and a building QR code pre-filling where someone lives.

"绑定 123456", "绑定码：123456" and a voice "绑定 123456。" all bind. The code is staff's one-time
6-digit code (storage/members/codes.py): checked against the rate limit first, so a guesser gets
no answer about codes once blocked; redeemed atomically; and a wrong, used or expired code is
counted against the sender.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import members as t
from handlers import events
from handlers.intake_form import scene_building
from handlers.member_tasks import plain
from storage.members import codes, roles
from storage.models import Building, Grid

router = Router("binding")

_BIND_WORD = re.compile(r"(?:我的)?(?:绑定码|身份绑定|绑定身份|绑定)(.*)", re.S)
_CODE = re.compile(r"(?:码)?(?:是)?\s*[:：]?\s*(\d{6})[。.!！\s]*")
_SPOKEN_DIGITS = str.maketrans("零〇一幺二两三四五六七八九", "0011223456789")


def _bind_command(ctx: Context) -> re.Match | None:
    return _BIND_WORD.fullmatch(plain(ctx))


def code_in(rest: str, *, spoken: bool) -> str | None:
    """The 6-digit code after "绑定": typed ("绑定码：123456", "绑定 123456。"), or spoken — WeChat's
    recognition may write "绑定一二三 四五六。", so a voice message's digits are collected."""
    if m := _CODE.fullmatch(rest.strip()):
        return m.group(1)
    if spoken:
        digits = "".join(c for c in rest.translate(_SPOKEN_DIGITS) if c.isdigit())
        return digits if len(digits) == 6 else None
    return None


@router.on(lambda ctx: _bind_command(ctx) is not None)
async def bind(ctx: Context) -> Reply:
    code = code_in(_bind_command(ctx).group(1), spoken=ctx.event.kind == "voice")
    if code is None:
        return Text(t.BIND_HOWTO)
    session = await ctx.db()
    config = ctx.settings.members
    where = dict(community_id=ctx.community_id, now=ctx.now)
    if await codes.blocked(session, openid=ctx.event.openid, settings=config, **where):
        return Text(t.BIND_BLOCKED.format(minutes=config.binding_failure_window_minutes))
    redeemed = await codes.redeem(session, code=code, resident_id=ctx.resident.id, **where)
    if redeemed is None:
        why = await codes.why_not(session, code=code, **where)
        await codes.record_failure(session, openid=ctx.event.openid, **where)
        return Text({"used": t.BIND_USED, "expired": t.BIND_EXPIRED}.get(why, t.BIND_WRONG))
    await roles.grant(session, resident=ctx.resident, role=redeemed.role, building_ids=redeemed.building_ids,
                      grid_ids=redeemed.grid_ids)
    return Text(await _welcome(ctx, redeemed))


async def _welcome(ctx: Context, redeemed: codes.Redeemed) -> str:
    session = await ctx.db()
    if redeemed.role == roles.MEMBER:
        names = await roles.building_names(session, await roles.building_ids_of(session, ctx.resident))
        template = t.BIND_OK_MEMBER
    else:
        grids = await roles.grid_ids_of(session, ctx.resident)
        names = list(await session.scalars(select(Grid.name).where(Grid.id.in_(grids))
                                           .order_by(Grid.id))) if grids else []
        template = t.BIND_OK_GRID
    return template.format(scope="、".join(names) or t.BIND_SCOPE_NONE, role=t.ROLE_NAMES[redeemed.role])


@router.on(lambda ctx: bool(ctx.event.scene), event=("subscribe", "scan"))
async def building_qr(ctx: Context) -> Reply | None:
    """The welcome (handlers/events.py) — and a building's QR code becomes the resident's
    building when we did not know it yet (the report form still asks them to confirm)."""
    answer = events.subscribed if ctx.event.event == "subscribe" else events.scanned
    reply = await answer(ctx)
    name = scene_building(ctx.event.scene)
    if ctx.resident.building_id is None and name:
        building_id = await (await ctx.db()).scalar(select(Building.id).where(
            Building.community_id == ctx.community_id, Building.name == name))
        if building_id is not None:
            ctx.resident.building_id = building_id
    return reply
