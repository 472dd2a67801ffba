"""Async client for the WeChat API calls Linli makes, on aiohttp.

The blocking wechatpy client must never run on the event loop (one slow call would stall every
resident's reply), so the few calls we need are made here directly. The base URL is
configurable (DESIGN §3.8) so tests and the demo talk to ``bot.wechat.fake_api``.

A token WeChat rejects (40001 invalid, 42001 expired, 40014 malformed) is refetched once,
forced, and the call retried once; a second rejection is raised as ``WeChatApiError``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import aiohttp

from bot.wechat.http import TokenFetchError, WeChatApiError, WeChatUnavailable, exchange, mask, parse_json

if TYPE_CHECKING:
    from bot.wechat.token import TokenManager

__all__ = ["WeChatApi", "WeChatApiError", "WeChatUnavailable", "TokenFetchError", "TOKEN_ERRORS"]

log = logging.getLogger("linli.wechat.api")

TOKEN_ERRORS = frozenset({40001, 40014, 42001})


class WeChatApi:
    """One Official Account's API client; share one per account across the process."""

    def __init__(self, http: aiohttp.ClientSession, *, base_url: str, tokens: "TokenManager",
                 timeout: float = 5.0) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self.tokens = tokens
        self._timeout = timeout

    # ---- messages ----------------------------------------------------------------------------

    async def send_text(self, openid: str, content: str) -> dict[str, Any]:
        """Customer-service text message; only within 48 h of the resident's last message."""
        return await self._post("/cgi-bin/message/custom/send",
                                {"touser": openid, "msgtype": "text", "text": {"content": content}})

    async def send_image(self, openid: str, media_id: str) -> dict[str, Any]:
        return await self._post("/cgi-bin/message/custom/send",
                                {"touser": openid, "msgtype": "image", "image": {"media_id": media_id}})

    async def send_template(self, openid: str, template_id: str, data: dict[str, Any],
                            url: str = "") -> dict[str, Any]:
        """Template message: the way to reach a resident outside the 48-hour window."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        return await self._post("/cgi-bin/message/template/send", body)

    async def send_subscribe(self, openid: str, template_id: str, data: dict[str, Any],
                             page: str = "") -> dict[str, Any]:
        """Subscription notification (订阅通知), the successor of template messages."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if page:
            body["page"] = page
        return await self._post("/cgi-bin/message/subscribe/bizsend", body)

    # ---- other calls -------------------------------------------------------------------------

    async def download_media(self, media_id: str) -> tuple[bytes, str]:
        """A resident's photo or voice by MediaId (temporary media, kept by WeChat for 3 days)."""
        return await self._with_token(self._media_once, media_id)

    async def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        return await self._post("/cgi-bin/menu/create", menu)

    async def user_info(self, openid: str) -> dict[str, Any]:
        return await self._get("/cgi-bin/user/info", {"openid": openid, "lang": "zh_CN"})

    # ---- plumbing ----------------------------------------------------------------------------

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._with_token(self._json_once, "POST", path, None, body)

    async def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        return await self._with_token(self._json_once, "GET", path, params, None)

    async def _with_token(self, once, *args):
        token = await self.tokens.get()
        try:
            return await once(token, *args)
        except WeChatApiError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.warning("WeChat rejected access_token %s (%s); refetching once", mask(token), exc.errcode)
        token = await self.tokens.refresh(force=True, stale_token=token)
        return await once(token, *args)

    async def _json_once(self, token: str, method: str, path: str, params: dict[str, str] | None,
                         body: dict[str, Any] | None) -> dict[str, Any]:
        raw, _ = await exchange(self._http, method, self._base + path, timeout=self._timeout,
                                params={**(params or {}), "access_token": token}, body=body)
        return parse_json(raw, f"{method} {path}")

    async def _media_once(self, token: str, media_id: str) -> tuple[bytes, str]:
        path = "/cgi-bin/media/get"
        raw, content_type = await exchange(self._http, "GET", self._base + path, timeout=self._timeout,
                                           params={"access_token": token, "media_id": media_id})
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind in ("application/json", "text/plain", "text/json"):
            parse_json(raw, f"GET {path}")  # raises on an errcode
        return raw, kind or "application/octet-stream"
