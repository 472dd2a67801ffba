"""Staff accounts (admins only) and the staff audit log."""

from __future__ import annotations

from math import ceil

from aiohttp import web

from bot.console import view as cw
from bot.texts import console as texts
from storage.staff import accounts, audit, inbox, passwords, sessions
from storage.staff_models import ROLES, StaffAccount


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/manage/staff", staff_page)
    router.add_post("/manage/staff", staff_create)
    router.add_get("/manage/staff/{id:\\d+}", account_page)
    router.add_post("/manage/staff/{id:\\d+}", staff_update)
    router.add_post("/manage/staff/{id:\\d+}/role", staff_role)
    router.add_get("/manage/audit", audit_page)


async def staff_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    member, services = cw.staff(request), cw.services(request)
    member.require("staff")
    async with services.db.sessions() as session:
        rows = await accounts.in_community(session, member.community_id)
        grid_names = await accounts.grid_names_of(session, [a.id for a in rows])
        grid_list = await inbox.grids(session, member.community_id, None)
    return await cw.render(request, "manage/staff.html", {"rows": rows, "grid_names": grid_names, "grids": grid_list,
                                                          "roles": ROLES, "error": error}, status=status)


async def staff_create(request: web.Request) -> web.StreamResponse:
    member, services = cw.staff(request), cw.services(request)
    member.require("staff")
    form = await request.post()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    problem = passwords.weakness(password, username)
    if problem:
        return await staff_page(request, error=texts.ACCOUNT_ERRORS[problem], status=400)
    password_hash = await passwords.hash_async(password)
    try:
        async with services.db.sessions.begin() as session:
            account = await accounts.create(
                session, username=username, display_name=str(form.get("display_name", "")).strip()[:50],
                password_hash=password_hash, role=str(form.get("role", "")), community_id=member.community_id,
                now=services.clock(), grid_ids=_ids(form, "grid_ids"))
            await cw.audit(session, request, "staff.create", target=f"staff:{account.id}",
                           detail={"username": account.username, "role": account.role})
    except accounts.AccountError as exc:
        return await staff_page(request, error=texts.ACCOUNT_ERRORS.get(exc.code, texts.ACCOUNT_REFUSED), status=400)
    raise cw.see_other("/manage/staff", done="created")


async def _account(session, request: web.Request) -> StaffAccount:
    """The account in the path, if it belongs to (or reaches) the community shown; 404 otherwise."""
    member = cw.staff(request)
    account = await session.get(StaffAccount, cw.path_id(request))
    if account is None or account.id not in {a.id for a in await accounts.in_community(session, member.community_id)}:
        raise web.HTTPNotFound()
    return account


async def account_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    """One account: its role, grids and further communities (the form to change them)."""
    member, services = cw.staff(request), cw.services(request)
    member.require("staff")
    async with services.db.sessions() as session:
        account = await _account(session, request)
        grid_ids, community_ids = await accounts.scope_ids(session, account)
        context = {"account": account, "roles": ROLES, "grids": await inbox.grids(session, account.community_id, None),
                   "grid_ids": grid_ids, "community_ids": community_ids, "error": error,
                   "all_communities": await accounts.communities(session)}
    return await cw.render(request, "manage/account.html", context, status=status)


async def staff_role(request: web.Request) -> web.StreamResponse:
    """Change the role and scope; the account's next request already sees the new reach."""
    member, services = cw.staff(request), cw.services(request)
    member.require("staff")
    form = await request.post()
    grid_ids, community_ids = _ids(form, "grid_ids"), _ids(form, "community_ids")
    role = str(form.get("role", ""))
    try:
        async with services.db.sessions.begin() as session:
            account = await _account(session, request)
            if account.id == member.id:
                raise cw.Refused(texts.SELF_ROLE)
            before = account.role
            await accounts.change_role(session, account, role=role, grid_ids=grid_ids,
                                       more_community_ids=[c for c in community_ids if c != account.community_id])
            await cw.audit(session, request, "staff.role", target=f"staff:{account.id}",
                           detail={"from": before, "to": role, "grid_ids": grid_ids, "community_ids": community_ids})
    except cw.Refused as exc:
        return await account_page(request, error=exc.message, status=exc.status)
    except accounts.AccountError as exc:
        return await account_page(request, error=texts.ACCOUNT_ERRORS.get(exc.code, texts.ACCOUNT_REFUSED), status=400)
    raise cw.see_other(f"/manage/staff/{account.id}", done="saved")


def _ids(form, name: str) -> list[int]:
    """The row ids ticked in a form (numbers no row can have are left out)."""
    return sorted({n for v in form.getall(name, []) if (n := cw.int_or_none(str(v))) is not None and n >= 0})


async def staff_update(request: web.Request) -> web.StreamResponse:
    """Enable / disable, or set a new password; either ends the account's sessions."""
    member, services = cw.staff(request), cw.services(request)
    member.require("staff")
    form = await request.post()
    async with services.db.sessions.begin() as session:
        account = await _account(session, request)
        problem = await _apply(session, member, account, form, services)
        if problem is None:
            await sessions.end_all_for(session, account.id)
            await cw.audit(session, request, "staff.update", target=f"staff:{account.id}",
                           detail={"active": account.active, "password_changed": bool(form.get("password"))})
    if problem:
        return await staff_page(request, error=problem, status=400)
    raise cw.see_other("/manage/staff", done="saved")


async def _apply(session, member, account: StaffAccount, form, services) -> str | None:
    if form.get("active") in ("0", "1"):
        active = form.get("active") == "1"
        if not active and account.id == member.id:
            return texts.SELF_DISABLE
        if not active and account.role == "admin" and await accounts.count_admins(session) <= 1:
            return texts.ACCOUNT_ERRORS["last_admin"]
        account.active = active
    password = str(form.get("password", ""))
    if password:
        problem = passwords.weakness(password, account.username)
        if problem:
            return texts.ACCOUNT_ERRORS[problem]
        account.password_hash = await passwords.hash_async(password)
        account.password_changed_at = services.clock()
    return None


async def audit_page(request: web.Request) -> web.Response:
    member, services = cw.staff(request), cw.services(request)
    member.require("audit")
    page = max(1, cw.int_or_none(request.query.get("page")) or 1)
    size = services.settings.console.page_size
    action = request.query.get("action", "")
    async with services.db.sessions() as session:
        rows, total = await audit.page(session, community_id=member.community_id, offset=(page - 1) * size,
                                       limit=size, action=action if action in texts.AUDIT_ACTIONS else None)
        names = await audit.target_names(session, rows)
    return await cw.render(request, "manage/audit.html", {"rows": rows, "page": page, "action": action,
                                                          "targets": {r.id: _target(r.target, names) for r in rows},
                                                          "pages": max(1, ceil(total / size)), "total": total})


def _target(target: str | None, names: dict[str, str | None]) -> str:
    """"resident:2" as staff read it: "居民 张建国" (or that it has been deleted since)."""
    if not target:
        return ""
    kind = target.partition(":")[0]
    kind_name = texts.AUDIT_TARGETS.get(kind, texts.ACTION_OTHER)
    if target not in names:
        return texts.AUDIT_TARGET_GONE.format(kind=kind_name)
    name = names[target]
    if kind == "notice_template":
        name = texts.NOTICE_KINDS.get(name or "", name)
    return f"{kind_name} {name}" if name else kind_name
