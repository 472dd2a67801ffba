"""Management: the menu, residents and their roles, grids and buildings."""

from __future__ import annotations

from math import ceil

from aiohttp import web
from sqlalchemy import delete

from bot.console import view as cw
from bot.texts import console as texts
from storage.members import roles
from storage.models import Building
from storage.staff import directory
from storage.ticket_models import GridWorker, MemberHouseholdBuilding

ROLE_CHOICES = (roles.MEMBER, roles.GRID_WORKER)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/manage", menu)
    router.add_get("/manage/residents", residents)
    router.add_get("/manage/residents/{id:\\d+}", resident_page)
    router.add_post("/manage/residents/{id:\\d+}", resident_save)
    router.add_get("/manage/grids", grids)
    router.add_post("/manage/grids", grid_add)
    router.add_post("/manage/grids/{id:\\d+}/rename", grid_rename)
    router.add_post("/manage/grids/{id:\\d+}/delete", grid_delete)
    router.add_post("/manage/buildings", building_save)


async def menu(request: web.Request) -> web.Response:
    cw.manager(request)
    return await cw.render(request, "manage/menu.html")


async def residents(request: web.Request) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    q, role = request.query.get("q", "").strip()[:50], request.query.get("role", "")
    role = role if role in ROLE_CHOICES else ""
    page = max(1, cw.int_or_none(request.query.get("page")) or 1)
    size = services.settings.console.page_size
    async with services.db.sessions() as session:
        rows, total = await directory.residents(session, community_id=member.community_id, q=q, role=role,
                                                offset=(page - 1) * size, limit=size)
        names = {b.id: b.name for b in await directory.buildings(session, member.community_id)}
    return await cw.render(request, "manage/residents.html", {"rows": rows, "total": total, "q": q, "role": role,
                                                              "page": page, "pages": max(1, ceil(total / size)),
                                                              "building_names": names})


async def _resident(session, request: web.Request):
    resident = await directory.resident(session, community_id=cw.staff(request).community_id,
                                        resident_id=cw.path_id(request))
    if resident is None:
        raise web.HTTPNotFound()
    return resident


async def resident_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        resident = await _resident(session, request)
        context = {"resident": resident, "buildings": await directory.buildings(session, member.community_id),
                   "grids": [g for g, _ in await directory.grids_with_buildings(session, member.community_id) if g],
                   "cared": await roles.building_ids_of(session, resident) if roles.has_role(resident, roles.MEMBER)
                   else set(),
                   "worked": await roles.grid_ids_of(session, resident) if roles.has_role(resident, roles.GRID_WORKER)
                   else set(), "error": error}
    return await cw.render(request, "manage/resident.html", context, status=status)


async def resident_save(request: web.Request) -> web.StreamResponse:
    """Profile and roles; a role's buildings (member household) or grids (grid worker) with it."""
    member, services = cw.manager(request), cw.services(request)
    form = await request.post()
    phone = str(form.get("phone", "")).strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 20):
        return await resident_page(request, error=texts.BAD_INPUT.format(what="电话号码"), status=400)
    async with services.db.sessions.begin() as session:
        resident = await _resident(session, request)
        known = {b.id for b in await directory.buildings(session, member.community_id)}
        building_id = cw.int_or_none(str(form.get("building_id", "")))
        resident.name = str(form.get("name", "")).strip()[:50] or None
        resident.phone = phone or None
        resident.building_id = building_id if building_id in known else None
        resident.unit = cw.int_or_none(str(form.get("unit", "")))
        resident.room = str(form.get("room", "")).strip()[:20] or None
        wanted = set(form.getall("roles", [])) & set(ROLE_CHOICES)
        cared = {int(v) for v in form.getall("cared", []) if str(v).isdigit()} & known
        grid_ids = {g.id for g, _ in await directory.grids_with_buildings(session, member.community_id) if g}
        worked = {int(v) for v in form.getall("worked", []) if str(v).isdigit()} & grid_ids
        await _set_roles(session, resident, wanted, cared, worked, services.clock(), services.settings)
        await cw.audit(session, request, "resident.update", target=f"resident:{resident.id}",
                       detail={"roles": sorted(wanted), "cared": sorted(cared), "worked": sorted(worked)})
    raise cw.see_other(f"/manage/residents/{resident.id}", done="saved")


async def _set_roles(session, resident, wanted: set[str], cared: set[int], worked: set[int], now,
                     settings) -> None:
    for role in ROLE_CHOICES:
        if role in wanted:
            links = MemberHouseholdBuilding if role == roles.MEMBER else GridWorker
            keep = cared if role == roles.MEMBER else worked
            column = links.building_id if role == roles.MEMBER else links.grid_id
            await session.execute(delete(links).where(links.resident_id == resident.id, column.not_in(list(keep))))
            await roles.grant(session, resident=resident, role=role, building_ids=sorted(cared),
                              grid_ids=sorted(worked))
        elif roles.has_role(resident, role):
            await roles.revoke(session, resident=resident, role=role, now=now, settings=settings)


async def grids(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        layout = await directory.grids_with_buildings(session, member.community_id)
    return await cw.render(request, "manage/grids.html", {"layout": layout, "error": error}, status=status)


async def grid_add(request: web.Request) -> web.StreamResponse:
    services = cw.services(request)
    member = cw.manager(request)
    name = str((await request.post()).get("name", "")).strip()[:100]
    if not name:
        return await grids(request, error=texts.BAD_INPUT.format(what="网格名称"), status=400)
    try:
        async with services.db.sessions.begin() as session:
            grid = await directory.add_grid(session, community_id=member.community_id, name=name)
            await cw.audit(session, request, "grid.create", target=f"grid:{grid.id}", detail={"name": name})
    except ValueError:
        return await grids(request, error=texts.GRID_EXISTS, status=409)
    raise cw.see_other("/manage/grids", done="created")


async def _grid(session, request: web.Request):
    """The grid named in the path, if it is of the community shown (404 otherwise)."""
    grid = await directory.grid_of(session, community_id=cw.staff(request).community_id,
                                   grid_id=cw.path_id(request))
    if grid is None:
        raise web.HTTPNotFound()
    return grid


async def grid_rename(request: web.Request) -> web.StreamResponse:
    cw.manager(request)
    services = cw.services(request)
    name = str((await request.post()).get("name", "")).strip()[:100]
    if not name:
        return await grids(request, error=texts.BAD_INPUT.format(what="网格名称"), status=400)
    try:
        async with services.db.sessions.begin() as session:
            grid = await _grid(session, request)
            old = grid.name
            await directory.rename_grid(session, grid, name)
            await cw.audit(session, request, "grid.rename", target=f"grid:{grid.id}", detail={"from": old, "to": name})
    except ValueError:
        return await grids(request, error=texts.GRID_EXISTS, status=409)
    raise cw.see_other("/manage/grids", done="saved")


async def grid_delete(request: web.Request) -> web.StreamResponse:
    """Only an unused grid goes (see directory.grid_in_use); otherwise the page says what to move."""
    cw.manager(request)
    services = cw.services(request)
    try:
        async with services.db.sessions.begin() as session:
            grid = await _grid(session, request)
            reason = await directory.grid_in_use(session, grid)
            if reason:
                raise cw.Refused(texts.GRID_IN_USE[reason], 409)
            await cw.audit(session, request, "grid.delete", target=f"grid:{grid.id}", detail={"name": grid.name})
            await session.delete(grid)
    except cw.Refused as exc:
        return await grids(request, error=exc.message, status=exc.status)
    raise cw.see_other("/manage/grids", done="deleted")


async def building_save(request: web.Request) -> web.StreamResponse:
    services = cw.services(request)
    member = cw.manager(request)
    form = await request.post()
    name = str(form.get("name", "")).strip()[:50]
    if not name:
        return await grids(request, error=texts.BAD_INPUT.format(what="楼栋名称"), status=400)
    try:
        async with services.db.sessions.begin() as session:
            building: Building = await directory.save_building(
                session, community_id=member.community_id, name=name,
                grid_id=cw.int_or_none(str(form.get("grid_id", ""))))
            await cw.audit(session, request, "building.save", target=f"building:{building.id}",
                           detail={"name": name, "grid_id": building.grid_id})
    except ValueError:
        return await grids(request, error=texts.BAD_INPUT.format(what="网格"), status=400)
    raise cw.see_other("/manage/grids", done="saved")
