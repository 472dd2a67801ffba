"""Logging in and out, and the middlewares that guard every console request.

- ``guard``: finds the session from the cookie (or sends the browser to the login page), builds
  the request's Staff, and checks the CSRF token of every unsafe request (form field ``_csrf``
  or header ``X-CSRF-Token``, which console.js adds to htmx requests).
- ``errors``: a refused or missing thing, any other HTTP error and any unexpected failure is a
  Chinese page, never aiohttp's English text (failures are logged).
- ``headers``: no framing, no sniffing, no referrer (WeChat's image host refuses hot-linked
  photos that carry one), and a content security policy that allows only our own scripts.

The login form carries its own CSRF token, tied to a short-lived cookie (double submit), so a
foreign page cannot log a browser into an account of the attacker's choosing.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from bot.console import view as cw
from bot.console.access import Forbidden, Staff
from bot.texts import console as texts
from storage.models import Community
from storage.staff import accounts, audit, passwords, sessions, throttle

log = logging.getLogger("linli.console")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = frozenset({cw.PREFIX + "/login"})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: http: https:; "
       "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")


def lifetime(settings) -> sessions.Lifetime:
    return sessions.Lifetime(idle=timedelta(hours=settings.console.session_idle_hours),
                             absolute=timedelta(days=settings.console.session_max_days))


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _secure(exc)
        raise
    _secure(response)
    return response


def _secure(response: web.StreamResponse) -> None:
    if response.prepared:
        return
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Content-Security-Policy", CSP)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal and every failure is a Chinese page: 403 and 404 say why, any other HTTP
    error its own sentence (with its headers, e.g. a 405's Allow), and an unexpected exception
    is logged with its traceback and shown as a 500 page that gives nothing away."""
    try:
        return await handler(request)
    except Forbidden:
        return await _error_page(request, texts.FORBIDDEN, 403)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects
        message = texts.NOT_FOUND if exc.status == 404 else texts.HTTP_ERRORS.get(exc.status, texts.HTTP_ERROR)
        return await _error_page(request, message, exc.status, exc.headers)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        log.exception("console: %s %s failed", request.method, request.path)
        return await _error_page(request, texts.SERVER_ERROR, 500)


async def _error_page(request: web.Request, message: str, status: int, headers=None) -> web.StreamResponse:
    try:
        response = await cw.render(request, "error.html", {"message": message}, status=status)
    except Exception:
        log.exception("console: the error page itself failed")
        response = web.Response(text=message, status=status)
    for name in ("Allow", "Retry-After"):
        if headers and name in headers:
            response.headers[name] = headers[name]
    return response


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC or request.path.startswith(cw.PREFIX + "/static/"):
        return await handler(request)
    member = await _staff_of(request)
    if member is None:
        return _to_login(request)
    request[cw.STAFF] = member
    if request.method in UNSAFE and not await _csrf_ok(request, member.csrf):
        return await cw.render(request, "error.html", {"message": texts.CSRF_FAILED}, status=403)
    return await handler(request)


async def _staff_of(request: web.Request) -> Staff | None:
    services = cw.services(request)
    token = request.cookies.get(cw.SESSION_COOKIE)
    if not token:
        return None
    async with services.db.sessions.begin() as session:
        found = await sessions.find(session, token, now=services.clock(), lifetime=lifetime(services.settings))
        if found is None:
            return None
        live, account = found
        reach = await accounts.reach(session, account)
        request[cw.COMMUNITY_NAMES] = dict((await session.execute(
            select(Community.id, Community.name).where(Community.id.in_(reach.community_ids))
            .order_by(Community.id))).all())
    current = live.community_id if live.community_id in reach.community_ids else account.community_id
    return Staff(id=account.id, username=account.username, name=account.display_name, role=account.role,
                 session_id=live.id, csrf=live.csrf_token, community_id=current, community_ids=reach.community_ids,
                 grid_ids=reach.grid_ids)


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    given = request.headers.get("X-CSRF-Token")
    if given is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        given = (await request.post()).get("_csrf")
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def _to_login(request: web.Request) -> web.StreamResponse:
    target = cw.PREFIX + "/login"
    if request.method == "GET" and request.path != cw.PREFIX + "/":
        target += "?" + urlencode({"next": request.path_qs})
    if cw.is_htmx(request):
        return web.Response(status=401, headers={"HX-Redirect": target})
    if request.method != "GET" or request.path.endswith("/live"):
        return web.Response(status=401, text=texts.SESSION_ENDED)
    raise web.HTTPSeeOther(target)


# ---- the login page ------------------------------------------------------------------------

async def login_page(request: web.Request) -> web.Response:
    return await _login_form(request, error=None)


async def _login_form(request: web.Request, *, error: str | None, status: int = 200,
                      username: str = "") -> web.Response:
    token = secrets.token_hex(16)
    response = await cw.render(request, "login.html", {"login_csrf": token, "error": error, "username": username,
                                                       "next": _safe_next(request.query.get("next"))},
                               status=status)
    settings = cw.services(request).settings.console
    response.set_cookie(cw.LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="Strict",
                        secure=settings.cookie_secure, path=cw.PREFIX + "/login")
    return response


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    if target and target.startswith(cw.PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return cw.PREFIX + "/"


async def login(request: web.Request) -> web.StreamResponse:
    services = cw.services(request)
    form = await request.post()
    username, password = str(form.get("username", "")).strip().lower()[:64], str(form.get("password", ""))
    cookie = request.cookies.get(cw.LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie.encode(), str(form.get("_csrf", "")).encode()):
        return await _login_form(request, error=texts.LOGIN_FORM_EXPIRED, status=403, username=username)
    ip, now, settings = cw.client_ip(request), services.clock(), services.settings
    limits = throttle.Limits(timedelta(minutes=settings.console.login_window_minutes),
                             settings.console.login_max_failures, settings.console.login_max_failures_per_ip)
    async with services.db.sessions.begin() as session:
        attempt = await throttle.admit(session, username=username, ip=ip, now=now, limits=limits)
        account = await accounts.by_username(session, username) if username and attempt else None
    if attempt is None:
        return await _login_form(request, status=429, username=username, error=texts.LOGIN_THROTTLED.format(
            minutes=settings.console.login_window_minutes))
    usable = account is not None and account.active
    ok, rehash = await passwords.check_async(account.password_hash if usable else None, password)
    token = await _open_session(request, account, attempt, password, rehash) if ok else None
    if token is None:
        return await _login_form(request, error=texts.LOGIN_FAILED, status=401, username=username)
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))
    response.set_cookie(cw.SESSION_COOKIE, token, httponly=True, samesite="Lax", secure=settings.console.cookie_secure,
                        path=cw.PREFIX, max_age=int(lifetime(settings).absolute.total_seconds()))
    response.del_cookie(cw.LOGIN_COOKIE, path=cw.PREFIX + "/login")
    raise response


async def _open_session(request: web.Request, account, attempt: int, password: str, rehash: bool) -> str:
    """The right password: the try becomes a success, and the browser gets a new session."""
    services, settings = cw.services(request), cw.services(request).settings
    now, ip = services.clock(), cw.client_ip(request)
    new_hash = await passwords.hash_async(password) if rehash else None  # argon2 outside the transaction
    async with services.db.sessions.begin() as session:
        await throttle.settle(session, attempt)
        session.add(account)
        account.last_login_at = now
        if new_hash:
            account.password_hash = new_hash
        token = await sessions.start(session, account, now=now, lifetime=lifetime(settings), ip=ip,
                                     user_agent=request.headers.get("User-Agent"))
        await audit.record(session, community_id=account.community_id, staff_id=account.id,
                           staff_name=account.username, action="login", now=now, ip=ip)
    return token


async def logout(request: web.Request) -> web.StreamResponse:
    services, member = cw.services(request), cw.staff(request)
    async with services.db.sessions.begin() as session:
        await sessions.end(session, member.session_id)
        await audit.record(session, community_id=member.community_id, staff_id=member.id, staff_name=member.username,
                           action="logout", now=services.clock(), ip=cw.client_ip(request))
    response = web.HTTPSeeOther(cw.PREFIX + "/login")
    response.del_cookie(cw.SESSION_COOKIE, path=cw.PREFIX)
    raise response


async def switch_community(request: web.Request) -> web.StreamResponse:
    """Staff who reach several communities choose which one the console shows."""
    services, member = cw.services(request), cw.staff(request)
    wanted = cw.int_or_none(str((await request.post()).get("community_id", "")))
    if wanted not in member.community_ids:
        raise Forbidden(text=texts.FORBIDDEN)
    async with services.db.sessions.begin() as session:
        live = await session.get(sessions.StaffSession, member.session_id)
        live.community_id = wanted
        await audit.record(session, community_id=wanted, staff_id=member.id, staff_name=member.username,
                           action="community.switch", now=services.clock(), ip=cw.client_ip(request))
    raise cw.see_other("/", done="community")
