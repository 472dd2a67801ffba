"""Management of what the bot and staff say: FAQ entries, canned replies and notice templates."""

from __future__ import annotations

from aiohttp import web

from bot.console import view as cw
from bot.texts import console as texts
from storage.staff import canned, directory
from storage.staff import templates as notice_templates


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/manage/faq", faq_page)
    router.add_post("/manage/faq", faq_save)
    router.add_post("/manage/faq/{id:\\d+}/delete", faq_delete)
    router.add_get("/manage/canned", canned_page)
    router.add_post("/manage/canned", canned_save)
    router.add_post("/manage/canned/{id:\\d+}/delete", canned_delete)
    router.add_get("/manage/templates", templates_page)
    router.add_post("/manage/templates/{kind:[a-z_]+}", template_save)
    router.add_post("/manage/templates/{kind:[a-z_]+}/delete", template_delete)


async def faq_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        entries = await directory.faq_entries(session, member.community_id)
    editing = cw.int_or_none(request.query.get("edit"))
    return await cw.render(request, "manage/faq.html", {"entries": entries, "error": error,
                                                        "editing": next((e for e in entries if e.id == editing), None)},
                           status=status)


async def faq_save(request: web.Request) -> web.StreamResponse:
    member, services = cw.manager(request), cw.services(request)
    form = await request.post()
    question, answer = str(form.get("question", "")).strip()[:200], str(form.get("answer", "")).strip()[:2000]
    keywords = [k for k in str(form.get("keywords", "")).replace("，", ",").split(",") if k.strip()][:20]
    if not question or not answer:
        return await faq_page(request, error=texts.BAD_INPUT.format(what="问题和回答都要填写"), status=400)
    try:
        async with services.db.sessions.begin() as session:
            entry = await directory.save_faq(session, community_id=member.community_id, question=question,
                                             answer=answer, keywords=[k.strip() for k in keywords],
                                             enabled=form.get("enabled") == "1",
                                             entry_id=cw.int_or_none(str(form.get("id", ""))))
            await cw.audit(session, request, "faq.save", target=f"faq:{entry.id}", detail={"question": question})
    except ValueError:
        return await faq_page(request, error=texts.FAQ_EXISTS, status=409)
    except LookupError:
        raise web.HTTPNotFound() from None
    raise cw.see_other("/manage/faq", done="saved")


async def faq_delete(request: web.Request) -> web.StreamResponse:
    member, services = cw.manager(request), cw.services(request)
    entry_id = cw.path_id(request)
    async with services.db.sessions.begin() as session:
        if not await directory.delete_faq(session, community_id=member.community_id, entry_id=entry_id):
            raise web.HTTPNotFound()
        await cw.audit(session, request, "faq.delete", target=f"faq:{entry_id}")
    raise cw.see_other("/manage/faq", done="deleted")


async def canned_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        rows = await canned.all_of(session, member.community_id)
    editing = cw.int_or_none(request.query.get("edit"))
    return await cw.render(request, "manage/canned.html", {"rows": rows, "error": error,
                                                           "editing": next((r for r in rows if r.id == editing), None)},
                           status=status)


async def canned_save(request: web.Request) -> web.StreamResponse:
    member, services = cw.manager(request), cw.services(request)
    form = await request.post()
    title, body = str(form.get("title", "")).strip()[:50], str(form.get("body", "")).strip()[:600]
    if not title or not body:
        return await canned_page(request, error=texts.BAD_INPUT.format(what="标题和内容都要填写"), status=400)
    try:
        async with services.db.sessions.begin() as session:
            row = await canned.save(session, community_id=member.community_id, title=title, body=body,
                                    by=member.username, now=services.clock(),
                                    reply_id=cw.int_or_none(str(form.get("id", ""))))
            await cw.audit(session, request, "canned.save", target=f"canned:{row.id}", detail={"title": title})
    except LookupError:
        raise web.HTTPNotFound() from None
    except ValueError:
        return await canned_page(request, error=texts.CANNED_EXISTS, status=409)
    raise cw.see_other("/manage/canned", done="saved")


async def canned_delete(request: web.Request) -> web.StreamResponse:
    member, services = cw.manager(request), cw.services(request)
    reply_id = cw.path_id(request)
    async with services.db.sessions.begin() as session:
        if not await canned.remove(session, community_id=member.community_id, reply_id=reply_id):
            raise web.HTTPNotFound()
        await cw.audit(session, request, "canned.delete", target=f"canned:{reply_id}")
    raise cw.see_other("/manage/canned", done="deleted")


async def templates_page(request: web.Request, *, error: str | None = None, status: int = 200) -> web.Response:
    """Which notices have a template message for when the 48-hour window has closed: the
    community's own (kept here, editable by admins) or else the config's for its accounts."""
    member, services = cw.manager(request), cw.services(request)
    async with services.db.sessions() as session:
        stored = await notice_templates.all_of(session, member.community_id)
    editing = request.query.get("edit")
    context = {"stored": stored, "configured": _configured(request, member.community_id), "error": error,
               "kinds": texts.NOTICE_KINDS, "sources": texts.NOTICE_FIELD_NAMES,
               "editing": editing if editing in texts.NOTICE_KINDS and member.can("templates") else None,
               "slots": range(notice_templates.MAX_FIELDS)}
    return await cw.render(request, "manage/templates.html", context, status=status)


def _configured(request: web.Request, community_id: int) -> dict[str, object]:
    """Per notice kind, the config's template of the community's first account that has one."""
    services = cw.services(request)
    slug = next((s for s, i in services.community_ids.items() if i == community_id), None)
    found: dict[str, object] = {}
    for account in (a for a in services.settings.accounts if a.community == slug):
        for kind, template in account.templates.items():
            if template.template_id:
                found.setdefault(kind, template)
    return found


def _template_form(form) -> tuple[str, dict[str, str], str]:
    fields = {}
    for n in range(notice_templates.MAX_FIELDS):
        name = str(form.get(f"field_{n}", "")).strip()[:32]
        if name:
            fields[name] = str(form.get(f"source_{n}", ""))
    return str(form.get("template_id", "")).strip(), fields, str(form.get("url", "")).strip()[:500]


async def template_save(request: web.Request) -> web.StreamResponse:
    member, services = cw.staff(request), cw.services(request)
    member.require("templates")
    kind = request.match_info["kind"]
    if kind not in texts.NOTICE_KINDS:
        raise web.HTTPNotFound()
    template_id, fields, url = _template_form(await request.post())
    try:
        async with services.db.sessions.begin() as session:
            row = await notice_templates.save(session, community_id=member.community_id, notice_kind=kind,
                                              template_id=template_id, fields=fields, url=url,
                                              by=member.username, now=services.clock())
            await cw.audit(session, request, "template.save", target=f"notice_template:{row.id}",
                           detail={"kind": kind, "template_id": template_id, "fields": fields})
    except notice_templates.TemplateError as exc:
        return await templates_page(request, error=texts.TEMPLATE_ERRORS[exc.code], status=400)
    raise cw.see_other("/manage/templates", done="saved")


async def template_delete(request: web.Request) -> web.StreamResponse:
    member, services = cw.staff(request), cw.services(request)
    member.require("templates")
    kind = request.match_info["kind"]
    async with services.db.sessions.begin() as session:
        if kind not in texts.NOTICE_KINDS or not await notice_templates.remove(
                session, community_id=member.community_id, notice_kind=kind):
            raise web.HTTPNotFound()
        await cw.audit(session, request, "template.delete", detail={"kind": kind})
    raise cw.see_other("/manage/templates", done="deleted")
