"""Member-household work in the console: binding codes (绑定码) that give a resident the member
household or grid worker role in chat (issued and revoked), and care households (重点户) with
their visit schedules and visit history. Through storage.members (and storage.staff.members_admin
for what it lacks); every change is also on the staff audit log. Refusals are the console's own
Chinese sentences, never the command-line wording of storage.members' errors."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from bot.console import view as cw
from bot.texts import console as texts
from bot.texts import members as member_texts
from nlp.timephrase import SHANGHAI
from storage.member_models import CareHousehold
from storage.members import care, codes, recurrence, roles
from storage.models import Building, Resident
from storage.staff import directory, members_admin


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/manage/codes", codes_page)
    router.add_post("/manage/codes", code_issue)
    router.add_post("/manage/codes/{id:\\d+}/revoke", code_revoke)
    router.add_get("/manage/care", care_page)
    router.add_post("/manage/care", care_add)
    router.add_get("/manage/care/{id:\\d+}", household_page)
    router.add_post("/manage/care/{id:\\d+}/schedule", care_schedule)
    router.add_post("/manage/care/{id:\\d+}/member", care_assign)
    router.add_post("/manage/care/{id:\\d+}/remove", care_remove)


async def codes_page(request: web.Request, *, error: str | None = None, status: int = 200,
                     issued=None) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        context = {"codes": await codes.listing(session, community_id=member.community_id, now=services.clock()),
                   "buildings": await directory.buildings(session, member.community_id),
                   "grids": [g for g, _ in await directory.grids_with_buildings(session, member.community_id) if g],
                   "error": error, "issued": issued}
    return await cw.render(request, "manage/codes.html", context, status=status)


async def code_issue(request: web.Request) -> web.StreamResponse:
    member, services = cw.manager(request), cw.services(request)
    form = await request.post()
    role = str(form.get("role", ""))
    if role not in codes.ROLES:
        return await codes_page(request, error=texts.BAD_INPUT.format(what="角色"), status=400)
    async with services.db.sessions.begin() as session:
        buildings = {b.id for b in await directory.buildings(session, member.community_id)}
        grids = {g.id for g, _ in await directory.grids_with_buildings(session, member.community_id) if g}
        row = await codes.issue(
            session, community_id=member.community_id, role=role, now=services.clock(),
            settings=services.settings.members, issued_by=member.audit_name[:50],
            label=str(form.get("label", "")).strip()[:50] or None,
            building_ids=sorted({int(b) for b in form.getall("building_ids", []) if str(b).isdigit()} & buildings),
            grid_ids=sorted({int(g) for g in form.getall("grid_ids", []) if str(g).isdigit()} & grids))
        await cw.audit(session, request, "code.issue", target=f"binding_code:{row.id}",
                       detail={"role": role, "label": row.label})
    return await codes_page(request, issued=row)


async def code_revoke(request: web.Request) -> web.StreamResponse:
    member, services = cw.manager(request), cw.services(request)
    code_id = cw.path_id(request)
    async with services.db.sessions.begin() as session:
        if not await members_admin.revoke_code(session, community_id=member.community_id, code_id=code_id,
                                               now=services.clock()):
            raise web.HTTPNotFound()
        await cw.audit(session, request, "code.revoke", target=f"binding_code:{code_id}")
    raise cw.see_other("/manage/codes", done="revoked")


async def care_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        context = {"rows": await care.households(session, community_id=member.community_id),
                   "members": await roles.holders(session, community_id=member.community_id, role=roles.MEMBER),
                   "buildings": await directory.buildings(session, member.community_id),
                   "categories": member_texts.CATEGORY_NAMES, "recurrences": texts.RECURRENCE_NAMES,
                   "error": error, "today": services.clock().astimezone(SHANGHAI).date().isoformat()}
    context["member_names"] = {m.id: m.name or m.openid for m in context["members"]}
    context["building_names"] = {b.id: b.name for b in context["buildings"]}
    return await cw.render(request, "manage/care.html", context, status=status)


async def _member(session, request: web.Request, value: str):
    """The member household picked in a form (None: nobody yet): a resident of this community
    who holds the role (refused in Chinese otherwise, before storage.members says it its way)."""
    resident_id = cw.int_or_none(value)
    if resident_id is None:
        return None
    found = await directory.resident(session, community_id=cw.staff(request).community_id, resident_id=resident_id)
    if found is None:
        raise cw.Refused(texts.RESIDENT_NOT_FOUND)
    if not roles.has_role(found, roles.MEMBER):
        raise cw.Refused(texts.CARE_NOT_MEMBER.format(name=found.name or texts.CARE_UNNAMED))
    return found


def _plan(form) -> care.Plan:
    """The visit plan from a form: one of the named rules, and a first-visit date."""
    spec = str(form.get("recurrence", ""))
    if spec not in texts.RECURRENCE_NAMES:
        raise cw.Refused(texts.CARE_BAD_RECURRENCE)
    try:
        return care.Plan(recurrence=spec, anchor=date.fromisoformat(str(form.get("anchor", ""))))
    except ValueError:
        raise cw.Refused(texts.BAD_INPUT.format(what="第一次走访日期")) from None


async def care_add(request: web.Request) -> web.StreamResponse:
    member, services = cw.manager(request), cw.services(request)
    form = await request.post()
    category = str(form.get("category", ""))
    try:
        if category not in member_texts.CATEGORY_NAMES:
            raise cw.Refused(texts.CARE_BAD_CATEGORY)
        plan = _plan(form)
        async with services.db.sessions.begin() as session:
            buildings = {b.id for b in await directory.buildings(session, member.community_id)}
            building_id = cw.int_or_none(str(form.get("building_id", "")))
            household = await care.add_household(
                session, community_id=member.community_id, name=str(form.get("name", "")).strip()[:50],
                category=category, now=services.clock(), settings=services.settings, plan=plan,
                member=await _member(session, request, str(form.get("member_id", ""))),
                building_id=building_id if building_id in buildings else None,
                unit=str(form.get("unit", "")).strip()[:10] or None, room=str(form.get("room", "")).strip()[:20] or None,
                phone=str(form.get("phone", "")).strip()[:20] or None, note=str(form.get("note", "")).strip() or None)
            await cw.audit(session, request, "care.add", target=f"care_household:{household.id}")
    except cw.Refused as exc:
        return await care_page(request, error=exc.message, status=exc.status)
    except care.CareError:
        return await care_page(request, error=texts.CARE_REFUSED, status=400)
    raise cw.see_other("/manage/care", done="created")


async def _household(session, request: web.Request) -> CareHousehold:
    household = await session.get(CareHousehold, cw.path_id(request))
    if household is None or household.community_id != cw.staff(request).community_id:
        raise web.HTTPNotFound()
    return household


async def household_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    """One household: its schedule (changeable) and every visit so far."""
    cw.manager(request)
    services = cw.services(request)
    async with services.db.sessions() as session:
        household = await _household(session, request)
        building = await session.get(Building, household.building_id) if household.building_id else None
        member = await session.get(Resident, household.member_resident_id) if household.member_resident_id else None
        context = {"household": household, "building": building, "member": member,
                   "schedule": await members_admin.current_schedule(session, household),
                   "visits": await members_admin.history(session, household), "error": error,
                   "categories": member_texts.CATEGORY_NAMES, "recurrences": texts.RECURRENCE_NAMES,
                   "visit_states": texts.VISIT_STATES,
                   "today": services.clock().astimezone(SHANGHAI).date().isoformat()}
    return await cw.render(request, "manage/household.html", context, status=status)


async def care_schedule(request: web.Request) -> web.StreamResponse:
    """A new visit rule and first visit; the open visit and its reminders follow (members_admin)."""
    cw.manager(request)
    services = cw.services(request)
    form = await request.post()
    try:
        plan = _plan(form)
        async with services.db.sessions.begin() as session:
            household = await _household(session, request)
            if not household.active:
                raise web.HTTPNotFound()
            await members_admin.reschedule(session, household, spec=plan.recurrence, anchor=plan.anchor,
                                           now=services.clock(), settings=services.settings)
            await cw.audit(session, request, "care.schedule", target=f"care_household:{household.id}",
                           detail={"recurrence": plan.recurrence, "anchor": plan.anchor.isoformat()})
    except cw.Refused as exc:
        return await household_page(request, error=exc.message, status=exc.status)
    except recurrence.RecurrenceError:
        return await household_page(request, error=texts.CARE_REFUSED, status=400)
    raise cw.see_other(f"/manage/care/{household.id}", done="saved")


async def care_assign(request: web.Request) -> web.StreamResponse:
    cw.manager(request)
    services = cw.services(request)
    form = await request.post()
    try:
        async with services.db.sessions.begin() as session:
            household = await _household(session, request)
            await care.assign_member(session, household, await _member(session, request, str(form.get("member_id", ""))),
                                     now=services.clock(), settings=services.settings)
            await cw.audit(session, request, "care.assign", target=f"care_household:{household.id}")
    except cw.Refused as exc:
        return await care_page(request, error=exc.message, status=exc.status)
    except care.CareError:
        return await care_page(request, error=texts.CARE_REFUSED, status=400)
    raise cw.see_other("/manage/care", done="saved")


async def care_remove(request: web.Request) -> web.StreamResponse:
    cw.manager(request)
    services = cw.services(request)
    async with services.db.sessions.begin() as session:
        household = await _household(session, request)
        await care.remove_household(session, household, now=services.clock())
        await cw.audit(session, request, "care.remove", target=f"care_household:{household.id}")
    raise cw.see_other("/manage/care", done="deleted")
