"""Play WeChat's part over real HTTP: build a push, sign and encrypt it, post it, open the reply.

Shared by the simulator page and `linli chat`, so both go through the same door WeChat uses
(signature checks, safe-mode AES, the reply deadline) instead of calling the dispatcher directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.config import AccountSettings
from bot.wechat.fake_api import SAMPLE_MEDIA_ID
from bot.wechat.simulate import WeChatSigner, message_xml

KINDS = ("text", "voice", "image", "location", "subscribe", "unsubscribe", "click", "view")
DEFAULT_LOCATION_LABEL = "襄阳市樊城区示范社区3栋"
# Roughly Fancheng district, Xiangyang.
DEFAULT_LATITUDE, DEFAULT_LONGITUDE = 32.0450, 112.1390
# What WeChat shows a resident when an account answers with anything but a valid reply.
SERVICE_UNAVAILABLE = "该公众号暂时无法提供服务，请稍后再试"


class BadMessage(ValueError):
    """The simulated message cannot be built (unknown type, missing key...)."""


@dataclass
class Outgoing:
    """One thing a resident does in WeChat."""

    kind: str
    content: str = ""
    scene: str = ""
    key: str = ""
    label: str = ""
    latitude: float = DEFAULT_LATITUDE
    longitude: float = DEFAULT_LONGITUDE
    pic_url: str = ""
    media_id: str = SAMPLE_MEDIA_ID


@dataclass
class Delivery:
    """What came back: the passive reply as a small dict, or why there is none."""

    status: int
    reply: dict[str, Any] | None = None
    error: str | None = None
    elapsed_ms: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.error is None, "status": self.status, "reply": self.reply,
                "error": self.error, "elapsed_ms": self.elapsed_ms}


def account_user(account: AccountSettings) -> str:
    """The account's original ID (gh_…) as it appears in ToUserName; settings do not hold it."""
    return f"gh_{account.name}"


def build_xml(account: AccountSettings, openid: str, msg: Outgoing) -> str:
    """The XML WeChat would push for this action."""
    msg_type, fields = _fields(msg)
    return message_xml(openid, account_user(account), msg_type, fields)


def _fields(msg: Outgoing) -> tuple[str, dict[str, Any]]:
    if msg.kind == "text":
        return "text", {"Content": msg.content}
    if msg.kind == "voice":
        return "voice", {"MediaId": msg.media_id, "Format": "amr", "Recognition": msg.content}
    if msg.kind == "image":
        return "image", {"PicUrl": msg.pic_url or "http://127.0.0.1/sample.jpg", "MediaId": msg.media_id}
    if msg.kind == "location":
        return "location", {"Location_X": msg.latitude, "Location_Y": msg.longitude, "Scale": 16,
                            "Label": msg.label or DEFAULT_LOCATION_LABEL}
    if msg.kind == "subscribe":
        return "event", ({"Event": "subscribe", "EventKey": f"qrscene_{msg.scene}"} if msg.scene
                         else {"Event": "subscribe"})
    if msg.kind == "unsubscribe":
        return "event", {"Event": "unsubscribe"}
    if msg.kind in ("click", "view"):
        if not msg.key:
            raise BadMessage("a menu event needs a key")
        return "event", {"Event": msg.kind.upper(), "EventKey": msg.key}
    raise BadMessage(f"unknown message type {msg.kind!r}")


async def deliver(http: aiohttp.ClientSession, base_url: str, account: AccountSettings, openid: str,
                  msg: Outgoing, *, timeout: float = 6.0) -> Delivery:
    """POST the signed push to /wechat/<account> and read the passive reply as WeChat would."""
    signer = WeChatSigner(account)
    signed = signer.sign_post(build_xml(account, openid, msg))
    started = time.monotonic()
    try:
        async with http.post(f"{base_url.rstrip('/')}/wechat/{account.name}", params=signed.params,
                             data=signed.body, headers={"Content-Type": "text/xml"},
                             timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            body = await response.text()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Delivery(status=0, error=f"{SERVICE_UNAVAILABLE}（{type(exc).__name__}）")
    elapsed = int((time.monotonic() - started) * 1000)
    if status != 200:
        return Delivery(status=status, error=f"{SERVICE_UNAVAILABLE}（HTTP {status}）", elapsed_ms=elapsed)
    try:
        return Delivery(status=status, reply=reply_summary(signer.open_reply(body)), elapsed_ms=elapsed)
    except Exception as exc:  # a reply WeChat could not read: the resident sees the same notice
        return Delivery(status=status, error=f"{SERVICE_UNAVAILABLE}（{exc}）", elapsed_ms=elapsed)


def reply_summary(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """A passive reply XML dict → {"type": "text", "content": …} or {"type": "image", "media_id": …}."""
    if data is None:
        return None
    msg_type = str(data.get("MsgType") or "")
    if msg_type == "text":
        return {"type": "text", "content": str(data.get("Content") or "")}
    if msg_type == "image":
        image = data.get("Image") if isinstance(data.get("Image"), dict) else {}
        return {"type": "image", "media_id": str(image.get("MediaId") or "")}
    return {"type": msg_type or "unknown", "content": ""}


async def fetch_fake_sent(http: aiohttp.ClientSession, api_base: str, openid: str, after: int,
                          *, timeout: float = 3.0) -> list[dict[str, Any]] | None:
    """Customer-service/template messages the fake WeChat API received; None when it is not a fake."""
    if "weixin.qq.com" in api_base:
        return None
    try:
        async with http.get(f"{api_base.rstrip('/')}/_fake/sent", params={"openid": openid, "after": str(after)},
                            timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            if response.status != 200:
                return None
            items = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    if not isinstance(items, list):
        return None
    return [item for item in items if isinstance(item, dict) and isinstance(item.get("seq"), int)]


def describe_sent(item: dict[str, Any]) -> str:
    """One line of text for a delivered customer-service or template message."""
    kind = item.get("kind")
    if kind == "text":
        return str(item.get("content") or "")
    if kind == "image":
        return "[图片]"
    data = item.get("data") if isinstance(item.get("data"), dict) else {}
    values = [str(v.get("value", "")) if isinstance(v, dict) else str(v) for v in data.values()]
    return "\n".join(v for v in values if v) or "[模板消息]"
