"""A fake api.weixin.qq.com on loopback, for tests, the local demo and the chat simulator.

It imitates the parts of the real API that Linli calls closely enough that the real client code
runs against it unchanged: tokens that expire and are invalidated by refetches, the error codes
the outbox reacts to (40001, 42001, 45015, 43004, ...), and JSON bodies decoded as UTF-8.

Everything delivered is recorded (``fake.calls``, ``fake.sent``) so tests can assert on it, and
``GET /_fake/sent`` lets the simulator page and ``linli chat`` poll for customer-service
messages as they arrive. Fault knobs (``fail_next``, ``outside_window``, ``unreachable``,
``delay``) let tests drive the retry paths.

Run standalone: ``python -m bot.wechat.fake_api --port 9100``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from aiohttp import web

TOKEN_LIFETIME = 7200
STABLE_RENEW_WINDOW = 300  # normal-mode stable_token renews in the last 5 minutes
# A 1x1 JPEG: enough for code that stores or forwards a photo.
SAMPLE_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////"
    "////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=") + b"\xff\xd9"
SAMPLE_MEDIA_ID = "FAKE_MEDIA_SAMPLE"

ERRMSG = {
    0: "ok",
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40007: "invalid media_id",
    40013: "invalid appid",
    40125: "invalid appsecret",
    42001: "access_token expired",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    47001: "data format error",
}


@dataclass
class _Token:
    appid: str
    source: str  # stable | basic
    expires_at: float
    revoked: int | None = None  # the errcode a call with this token gets


class FakeWeChat:
    """The fake server; start() binds it to loopback, ``base_url`` goes into settings."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.accounts: dict[str, str] = {}
        self.tokens: dict[str, _Token] = {}
        self.current: dict[tuple[str, str], str] = {}
        self.media: dict[str, tuple[bytes, str]] = {SAMPLE_MEDIA_ID: (SAMPLE_JPEG, "image/jpeg")}
        self.users: dict[str, dict[str, Any]] = {}
        self.menus: list[dict[str, Any]] = []
        self.outside_window: set[str] = set()
        self.unreachable = False
        self.delay = 0.0
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.reset()
        self.app = self._build_app()

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{bound_port}"

    async def stop(self) -> None:
        """Close the port: callers now get "connection refused", as when WeChat is unreachable.
        ``start(port=fake.port)`` opens it again, with tokens and records kept."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    # ---- test helpers ----------------------------------------------------------------------

    def register(self, appid: str, secret: str) -> None:
        """Once any account is registered, only registered appid/secret pairs get tokens."""
        self.accounts[appid] = secret

    def reset(self) -> None:
        """Forget calls, deliveries and faults (tokens and accounts stay valid)."""
        self.calls: list[tuple[str, dict[str, str], Any]] = []
        self.raw_bodies: list[str] = []
        self.sent: list[dict[str, Any]] = []
        self.token_fetches = 0
        self._failures: list[list[Any]] = []
        self.outside_window = set()
        self.unreachable = False
        self.delay = 0.0

    def expire_tokens(self, code: int = 40001) -> None:
        """Invalidate every token handed out so far; calls with them get ``code``."""
        for token in self.tokens.values():
            if token.revoked is None:
                token.revoked = code

    def fail_next(self, path_suffix: str, errcode: int, times: int = 1) -> None:
        """The next ``times`` calls whose path ends with ``path_suffix`` answer ``errcode``."""
        self._failures.append([path_suffix, errcode, times])

    def clear_failures(self) -> None:
        """Forget pending ``fail_next`` answers (the outage is over), keeping everything else."""
        self._failures = []

    def add_media(self, data: bytes = SAMPLE_JPEG, content_type: str = "image/jpeg",
                  media_id: str | None = None) -> str:
        media_id = media_id or "FAKE_MEDIA_" + secrets.token_hex(8)
        self.media[media_id] = (data, content_type)
        return media_id

    def sent_to(self, openid: str) -> list[dict[str, Any]]:
        return [item for item in self.sent if item["openid"] == openid]

    def paths(self) -> list[str]:
        return [path for path, _query, _body in self.calls]

    # ---- plumbing --------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._faults])
        app.router.add_post("/cgi-bin/stable_token", self._stable_token)
        app.router.add_get("/cgi-bin/token", self._basic_token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_post("/cgi-bin/message/template/send", self._template_send)
        app.router.add_post("/cgi-bin/message/subscribe/bizsend", self._subscribe_send)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        app.router.add_get("/cgi-bin/user/info", self._user_info)
        app.router.add_get("/_fake/sent", self._inspect_sent)
        app.router.add_post("/_fake/reset", self._inspect_reset)
        app.router.add_post("/_fake/media", self._inspect_media)
        return app

    @web.middleware
    async def _faults(self, request: web.Request, handler):
        if not request.path.startswith("/cgi-bin/"):
            response = await handler(request)
            response.headers["Access-Control-Allow-Origin"] = "*"
            return response
        raw, body = await _read_json(request)
        self.calls.append((request.path, dict(request.query), None if body is _MALFORMED else body))
        self.raw_bodies.append(raw)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.unreachable:
            return web.Response(status=503, text="Service Unavailable")
        failure = self._take_failure(request.path)
        if failure is not None:
            return _error(failure)
        if body is _MALFORMED:
            return _error(47001)
        request[_BODY] = body
        return await handler(request)

    def _take_failure(self, path: str) -> int | None:
        for entry in self._failures:
            if path.endswith(entry[0]) and entry[2] > 0:
                entry[2] -= 1
                return entry[1]
        return None

    def _check_token(self, request: web.Request) -> int:
        token = self.tokens.get(request.query.get("access_token", ""))
        if token is None:
            return 40001
        if token.revoked is not None:
            return token.revoked
        return 42001 if token.expires_at <= self.clock() else 0

    def _check_secret(self, appid: str, secret: str) -> int:
        if not self.accounts:
            return 0 if appid and secret else 40013
        if appid not in self.accounts:
            return 40013
        return 0 if secrets.compare_digest(self.accounts[appid], secret) else 40125

    def _issue(self, appid: str, source: str) -> str:
        """A new token; the previous one of the same source stops working (like WeChat)."""
        previous = self.tokens.get(self.current.get((appid, source), ""))
        if previous is not None and previous.revoked is None:
            previous.revoked = 40001
        value = "FAKE_TOKEN_" + secrets.token_urlsafe(24)
        self.tokens[value] = _Token(appid, source, self.clock() + TOKEN_LIFETIME)
        self.current[(appid, source)] = value
        self.token_fetches += 1
        return value

    def _record(self, openid: str, kind: str, **fields: Any) -> dict[str, Any]:
        item = {"seq": next(self._seq), "openid": openid, "kind": kind,
                "at": datetime.now(timezone.utc).isoformat(), **fields}
        self.sent.append(item)
        return item

    # ---- token endpoints -------------------------------------------------------------------

    async def _stable_token(self, request: web.Request) -> web.Response:
        body = request[_BODY] or {}
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        appid = str(body.get("appid", ""))
        errcode = self._check_secret(appid, str(body.get("secret", "")))
        if errcode:
            return _error(errcode)
        current = self.tokens.get(self.current.get((appid, "stable"), ""))
        now = self.clock()
        reusable = (current is not None and current.revoked is None
                    and current.expires_at - now > STABLE_RENEW_WINDOW)
        if reusable and not body.get("force_refresh"):
            self.token_fetches += 1
            return web.json_response({"access_token": self.current[(appid, "stable")],
                                      "expires_in": int(current.expires_at - now)})
        if current is not None and current.revoked is None and not body.get("force_refresh"):
            # normal mode near expiry: the old token stays usable until it expires
            self.current.pop((appid, "stable"))
        return web.json_response({"access_token": self._issue(appid, "stable"), "expires_in": TOKEN_LIFETIME})

    async def _basic_token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        appid = query.get("appid", "")
        errcode = self._check_secret(appid, query.get("secret", ""))
        if errcode:
            return _error(errcode)
        return web.json_response({"access_token": self._issue(appid, "basic"), "expires_in": TOKEN_LIFETIME})

    # ---- message endpoints -----------------------------------------------------------------

    async def _custom_send(self, request: web.Request) -> web.Response:
        errcode = self._check_token(request)
        if errcode:
            return _error(errcode)
        body = request[_BODY] or {}
        openid, msgtype = str(body.get("touser", "")), body.get("msgtype")
        if not openid:
            return _error(40003)
        if openid in self.outside_window:
            return _error(45015)
        if msgtype == "text" and isinstance(body.get("text"), dict) and "content" in body["text"]:
            self._record(openid, "text", content=body["text"]["content"])
        elif msgtype == "image" and isinstance(body.get("image"), dict) and body["image"].get("media_id"):
            self._record(openid, "image", media_id=body["image"]["media_id"])
        else:
            return _error(40008, "invalid message type")
        return _ok()

    async def _template_send(self, request: web.Request) -> web.Response:
        errcode = self._check_token(request)
        if errcode:
            return _error(errcode)
        body = request[_BODY] or {}
        if not body.get("touser") or not body.get("template_id"):
            return _error(40037 if body.get("touser") else 40003, "invalid template_id or touser")
        item = self._record(str(body["touser"]), "template", template_id=body["template_id"],
                            data=body.get("data") or {}, url=body.get("url", ""))
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": 100000 + item["seq"]})

    async def _subscribe_send(self, request: web.Request) -> web.Response:
        errcode = self._check_token(request)
        if errcode:
            return _error(errcode)
        body = request[_BODY] or {}
        if not body.get("touser") or not body.get("template_id"):
            return _error(47003, "argument invalid")
        self._record(str(body["touser"]), "subscribe", template_id=body["template_id"],
                     data=body.get("data") or {}, page=body.get("page", ""))
        return _ok()

    async def _media_get(self, request: web.Request) -> web.Response:
        errcode = self._check_token(request)
        if errcode:
            return _error(errcode)
        media = self.media.get(request.query.get("media_id", ""))
        if media is None:
            return _error(40007)
        data, content_type = media
        return web.Response(body=data, content_type=content_type,
                            headers={"Content-disposition": 'attachment; filename="media.jpg"'})

    async def _menu_create(self, request: web.Request) -> web.Response:
        errcode = self._check_token(request)
        if errcode:
            return _error(errcode)
        body = request[_BODY] or {}
        if not isinstance(body.get("button"), list) or not body["button"]:
            return _error(40016, "invalid button size")
        self.menus.append(body)
        return _ok()

    async def _user_info(self, request: web.Request) -> web.Response:
        errcode = self._check_token(request)
        if errcode:
            return _error(errcode)
        openid = request.query.get("openid", "")
        if not openid:
            return _error(40003)
        user = {"subscribe": 1, "openid": openid, "nickname": f"居民{openid[-4:]}", "sex": 0,
                "language": "zh_CN", "city": "襄阳", "province": "湖北", "country": "中国",
                "headimgurl": "", "subscribe_time": 1700000000, "remark": "", "groupid": 0,
                "tagid_list": [], "subscribe_scene": "ADD_SCENE_QR_CODE", "qr_scene": 0, "qr_scene_str": ""}
        user.update(self.users.get(openid, {}))
        return web.json_response(user, dumps=_dumps)

    # ---- inspection endpoints --------------------------------------------------------------

    async def _inspect_sent(self, request: web.Request) -> web.Response:
        openid = request.query.get("openid")
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            raise web.HTTPBadRequest(text="after must be an integer") from None
        items = [item for item in self.sent
                 if item["seq"] > after and (openid is None or item["openid"] == openid)]
        return web.json_response(items, dumps=_dumps)

    async def _inspect_reset(self, _request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    async def _inspect_media(self, request: web.Request) -> web.Response:
        """Store an uploaded photo so a simulated image message can refer to its MediaId."""
        data = await request.read()
        media_id = self.add_media(data or SAMPLE_JPEG, request.content_type or "image/jpeg")
        return web.json_response({"media_id": media_id})


_MALFORMED = object()
_BODY = web.RequestKey("fake_wechat_body", object)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def _read_json(request: web.Request) -> tuple[str, Any]:
    """The raw text (kept so tests can check Chinese is not \\u-escaped) and the parsed body."""
    if request.method != "POST" or not request.can_read_body:
        return "", None
    text = (await request.read()).decode("utf-8", errors="replace")
    try:
        return text, (json.loads(text) if text.strip() else None)
    except ValueError:
        return text, _MALFORMED


def _ok() -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok"})


def _error(errcode: int, errmsg: str | None = None) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg or ERRMSG.get(errcode, "error")})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake WeChat API server on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--appid", help="only accept this appid (with --secret)")
    parser.add_argument("--secret", default="")
    args = parser.parse_args(argv)
    fake = FakeWeChat()
    if args.appid:
        fake.register(args.appid, args.secret)
    print(f"fake WeChat API on http://{args.host}:{args.port}")
    web.run_app(fake.app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
