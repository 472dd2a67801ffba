"""One HTTP exchange with the WeChat API: encoding, error mapping and secret masking.

Shared by the token manager and the API client so both treat the network the same way:
anything that is not a JSON answer from WeChat (connection refused, timeout, a 5xx, an HTML
error page) is ``WeChatUnavailable`` and worth retrying later; a JSON answer with a non-zero
``errcode`` is ``WeChatApiError`` and the caller decides what it means.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp

log = logging.getLogger("linli.wechat.api")

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class WeChatApiError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class TokenFetchError(WeChatApiError):
    """Fetching the access_token was refused (wrong secret 40125, IP not whitelisted 40164, ...).

    An operator can fix this, so outbound messages wait and retry instead of failing at once.
    """


class WeChatUnavailable(Exception):
    """WeChat could not be reached or gave no usable answer; retry later."""


def mask(secret: str | None) -> str:
    """Enough of a token to tell two apart in a log line, never enough to use it."""
    if not secret:
        return "<none>"
    return secret[:4] + "…" if len(secret) > 8 else "…"


def encode_json(body: Any) -> bytes:
    """UTF-8 JSON with Chinese kept as is: WeChat shows \\uXXXX escapes literally."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def exchange(http: aiohttp.ClientSession, method: str, url: str, *, timeout: float,
                   params: dict[str, str] | None = None, body: Any = None) -> tuple[bytes, str]:
    """Send one request; return (body bytes, content type) of a non-5xx answer."""
    path = url.split("?", 1)[0]
    data = encode_json(body) if body is not None else None
    headers = {"Content-Type": JSON_CONTENT_TYPE} if data is not None else None
    try:
        async with http.request(method, url, params=params, data=data, headers=headers,
                                timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            raw = await response.read()
            if response.status >= 500:
                raise WeChatUnavailable(f"{method} {path}: HTTP {response.status}")
            return raw, response.headers.get("Content-Type", "")
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        # The exception text may carry the URL with access_token: never pass it on.
        raise WeChatUnavailable(f"{method} {path}: {type(exc).__name__}") from None


def parse_json(raw: bytes, what: str) -> dict[str, Any]:
    """Decode a JSON object answer and raise WeChatApiError for a non-zero errcode."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WeChatUnavailable(f"{what}: answer is not JSON") from None
    if not isinstance(data, dict):
        raise WeChatUnavailable(f"{what}: answer is not a JSON object")
    errcode = int(data.get("errcode") or 0)
    if errcode != 0:
        raise WeChatApiError(errcode, str(data.get("errmsg", "")))
    return data


async def call_json(http: aiohttp.ClientSession, method: str, url: str, *, timeout: float,
                    params: dict[str, str] | None = None, body: Any = None) -> dict[str, Any]:
    raw, _content_type = await exchange(http, method, url, timeout=timeout, params=params, body=body)
    return parse_json(raw, f"{method} {url.split('?', 1)[0]}")
