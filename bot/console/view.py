"""Small helpers every console view uses: services, the staff member, rendering, redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot import keys
from bot.console.access import Staff
from bot.services import Services
from bot.texts import console as texts
from storage import sql

PREFIX = "/console"
SESSION_COOKIE = "linli_console"
LOGIN_COOKIE = "linli_console_login"
_RequestKey = getattr(web, "RequestKey", lambda name, _type: name)  # typed keys from aiohttp 3.13 on
STAFF = _RequestKey("staff", Staff)  # the logged-in staff member
COMMUNITY_NAMES = _RequestKey("community_names", dict)  # id → name of the communities the staff member reaches


def services(request: web.Request) -> Services:
    return request.config_dict[keys.SERVICES]


def staff(request: web.Request) -> Staff:
    return request[STAFF]


def client_ip(request: web.Request) -> str:
    """The browser's address: from the proxy's header when configured (behind nginx), else the peer."""
    header = services(request).settings.console.client_ip_header
    if header and request.headers.get(header):
        return request.headers[header].split(",")[0].strip()[:64]
    return request.remote or "unknown"


async def render(request: web.Request, template: str, context: dict[str, Any] | None = None, *,
                 status: int = 200) -> web.Response:
    """A page (or, for htmx requests, whatever fragment the template renders) with the usual context."""
    base: dict[str, Any] = {"request": request, "prefix": PREFIX, "error": None, "done": None, "staff": None,
                            "csrf": "", "communities": {}, "community_name": ""}
    member = request.get(STAFF)
    if member is not None:
        names = request.get(COMMUNITY_NAMES, {})
        base.update(staff=member, csrf=member.csrf, communities=names,
                    community_name=names.get(member.community_id, ""))
    done = request.query.get("done")
    if done in texts.DONE:
        base["done"] = texts.DONE[done]
    base.update(context or {})
    response = aiohttp_jinja2.render_template(template, request, base, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def is_htmx(request: web.Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def see_other(path: str, **query: Any) -> web.HTTPSeeOther:
    """Post/redirect/get: after an action, back to a page (``done`` names the message shown)."""
    params = {k: v for k, v in query.items() if v is not None}
    return web.HTTPSeeOther(PREFIX + path + (("?" + urlencode(params)) if params else ""))


int_or_none = sql.int_or_none  # None also for numbers beyond an INTEGER column (PostgreSQL: 32 bits)


def path_id(request: web.Request) -> int:
    """The route's {id}; 404 for a number no row can have (PostgreSQL would refuse the query)."""
    row_id = int_or_none(request.match_info["id"])
    if row_id is None:
        raise web.HTTPNotFound()
    return row_id


def account_for(request: web.Request, community_id: int) -> str | None:
    """The Official Account that speaks for a community (the first configured for it)."""
    services_ = services(request)
    slug = next((s for s, i in services_.community_ids.items() if i == community_id), None)
    return next((a.name for a in services_.settings.accounts if a.community == slug), None)


def actor_of(member: Staff):
    """How a staff member appears on a ticket's event log."""
    from storage.tickets import Actor

    return Actor("grid_worker" if member.role == "grid_worker" else "staff", member.id, member.name)


async def audit(session, request: web.Request, action: str, *, target: str | None = None,
                detail: dict[str, Any] | None = None, community_id: int | None = None) -> None:
    from storage.staff import audit as audit_log

    member = staff(request)
    await audit_log.record(session, community_id=community_id or member.community_id, staff_id=member.id,
                           staff_name=member.username, action=action, now=services(request).clock(), target=target,
                           detail=detail, ip=client_ip(request))


class Refused(Exception):
    """An action refused with a sentence for staff; raised inside a transaction so it rolls back,
    then shown on the page with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def manager(request: web.Request) -> Staff:
    """The staff member, who must be allowed on the management pages."""
    member = staff(request)
    member.require("manage")
    return member
