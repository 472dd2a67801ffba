"""The simulator's JSON API: who can chat, send as a resident, and read later messages."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot import keys
from bot.config import AccountSettings, MenuButton, Settings
from bot.simulator.client import (
    DEFAULT_LOCATION_LABEL,
    KINDS,
    BadMessage,
    Outgoing,
    deliver,
    describe_sent,
    fetch_fake_sent,
)
from bot.wechat.fake_api import SAMPLE_JPEG
from storage.models import Building, Resident

HTTP = web.AppKey("simulator_http", aiohttp.ClientSession)
OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_CONTENT = 2000

# Shown when the account has no menu in its config: the intents a resident reaches most.
DEFAULT_MENU: list[dict[str, Any]] = [
    {"name": "我要办事", "sub": [{"name": "我要报修", "type": "click", "key": "intent:repair"},
                               {"name": "投诉反映", "type": "click", "key": "intent:complaint"}]},
    {"name": "我的查询", "sub": [{"name": "我的积分", "type": "click", "key": "intent:points_query"},
                               {"name": "工单进度", "type": "click", "key": "intent:ticket_status"}]},
    {"name": "转人工", "type": "click", "key": "intent:handoff", "sub": []},
]


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _account(settings: Settings, name: str | None) -> AccountSettings | None:
    if not name:
        return settings.accounts[0]
    return settings.account(name)


def _community_name(settings: Settings, account: AccountSettings) -> str:
    return next((c.name for c in settings.communities if c.slug == account.community), account.community)


def _menu(buttons: list[MenuButton]) -> list[dict[str, Any]]:
    return [{"name": b.name, "type": b.type, "key": b.key, "url": b.url, "sub": _menu(b.sub_button)}
            for b in buttons]


async def config(request: web.Request) -> web.Response:
    """Accounts, their community and menu, for the page's pickers and bottom menu."""
    settings = request.app[keys.SETTINGS]
    accounts = [{"name": a.name, "community": _community_name(settings, a),
                 "menu": _menu(a.menu) if a.menu else DEFAULT_MENU, "default_menu": not a.menu}
                for a in settings.accounts]
    return web.json_response({"accounts": accounts, "default_location": DEFAULT_LOCATION_LABEL}, dumps=_dumps)


async def residents(request: web.Request) -> web.Response:
    """The residents of the account's community, so one can chat as a known neighbour."""
    settings = request.app[keys.SETTINGS]
    account = _account(settings, request.query.get("account"))
    if account is None:
        return _bad("没有这个公众号", 404)
    services = request.app[keys.SERVICES]
    community_id = services.community_id_for(account.name)
    async with services.db.sessions() as session:
        rows = await session.execute(
            select(Resident, Building.name).outerjoin(Building, Resident.building_id == Building.id)
            .where(Resident.community_id == community_id).order_by(Resident.id).limit(200))
        people = [_resident_json(resident, building) for resident, building in rows.all()]
    return web.json_response({"residents": people}, dumps=_dumps)


def _resident_json(resident: Resident, building: str | None) -> dict[str, Any]:
    address = "".join(part for part in (building or "", f"{resident.unit}单元" if resident.unit else "",
                                        resident.room or "") if part)
    return {"openid": resident.openid, "name": resident.name or "", "address": address,
            "roles": list(resident.roles or []), "subscribed": bool(resident.subscribed)}


async def send(request: web.Request) -> web.Response:
    """Send one resident action through the real endpoint and return the passive reply.

    JSON only: a cross-site form cannot send that without a CORS preflight, which we never allow.
    """
    if request.content_type != "application/json":
        return _bad("请以 JSON 发送", 415)
    try:
        data = await request.json()
    except ValueError:
        return _bad("请求不是 JSON")
    if not isinstance(data, dict):
        return _bad("请求格式不对")
    settings = request.app[keys.SETTINGS]
    account = _account(settings, _s(data.get("account")))
    if account is None:
        return _bad("没有这个公众号", 404)
    openid = _s(data.get("openid"))
    if not OPENID.match(openid):
        return _bad("openid 只能包含字母、数字、下划线和短横线（最长 64 位）")
    try:
        msg = _outgoing(data, request)
    except BadMessage as exc:
        return _bad(str(exc))
    origin = str(request.url.origin())
    delivery = await deliver(request.app[HTTP], origin, account, openid, msg)
    return web.json_response(delivery.as_json(), dumps=_dumps)


def _outgoing(data: dict[str, Any], request: web.Request) -> Outgoing:
    kind = _s(data.get("type")) or "text"
    if kind not in KINDS:
        raise BadMessage(f"不支持的消息类型：{kind}")
    content = _s(data.get("content"))
    if len(content) > MAX_CONTENT:
        raise BadMessage(f"消息太长了（最多 {MAX_CONTENT} 字）")
    if kind in ("click", "view") and not _s(data.get("key")):
        raise BadMessage("菜单事件需要 key")
    return Outgoing(kind=kind, content=content, scene=_s(data.get("scene"))[:64], key=_s(data.get("key"))[:128],
                    label=_s(data.get("label"))[:100],
                    pic_url=f"{request.url.origin()}/simulator/media/sample.jpg")


def _s(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


async def inbox(request: web.Request) -> web.Response:
    """Customer-service and template messages the fake WeChat API received for this resident.

    Against a real WeChat API there is nothing to read, so the list is simply empty.
    """
    openid = request.query.get("openid", "")
    if not OPENID.match(openid):
        return _bad("openid 不对")
    try:
        after = max(int(request.query.get("after", "0")), 0)
    except ValueError:
        return _bad("after 必须是整数")
    settings = request.app[keys.SETTINGS]
    items = await fetch_fake_sent(request.app[HTTP], settings.wechat.base_url, openid, after)
    messages = [dict(item, text=describe_sent(item)) for item in items or []]
    return web.json_response({"messages": messages, "fake": items is not None}, dumps=_dumps)


async def sample_image(_request: web.Request) -> web.Response:
    """The PicUrl of simulated photos, so anything that follows it gets a real JPEG."""
    return web.Response(body=SAMPLE_JPEG, content_type="image/jpeg")
