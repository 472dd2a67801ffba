"""Taking a role in chat ("绑定 123456") and a building QR code pre-filling where someone lives.

The code is staff's one-time 6-digit code (storage/members/codes.py): checked against the rate
limit first, so a guesser gets no answer about codes once blocked; redeemed atomically; and a
wrong, used or expired code is counted against the sender.
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

_BIND = re.compile(r"(?:绑定|绑定码|身份绑定|绑定身份)\s*[:：]?\s*(\S*)")
_CODE = re.compile(r"\d{6}")


def _bind_command(ctx: Context) -> re.Match | None:
    return _BIND.fullmatch(plain(ctx))


@router.on(lambda ctx: _bind_command(ctx) is not None)
async def bind(ctx: Context) -> Reply:
    code = _bind_command(ctx).group(1)
    if not _CODE.fullmatch(code):
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
        names = list(await session.scalars(select(Grid.name).where(Grid.id.in_(grids)))) if grids else []
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
