"""Management of what the bot and staff say: FAQ entries and canned replies."""

from __future__ import annotations

from aiohttp import web

from bot.console import view as cw
from bot.texts import console as texts
from storage.staff import canned, directory


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/manage/faq", faq_page)
    router.add_post("/manage/faq", faq_save)
    router.add_post("/manage/faq/{id:\\d+}/delete", faq_delete)
    router.add_get("/manage/canned", canned_page)
    router.add_post("/manage/canned", canned_save)
    router.add_post("/manage/canned/{id:\\d+}/delete", canned_delete)
    router.add_get("/manage/templates", templates_page)


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
    entry_id = int(request.match_info["id"])
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
    reply_id = int(request.match_info["id"])
    async with services.db.sessions.begin() as session:
        if not await canned.remove(session, community_id=member.community_id, reply_id=reply_id):
            raise web.HTTPNotFound()
        await cw.audit(session, request, "canned.delete", target=f"canned:{reply_id}")
    raise cw.see_other("/manage/canned", done="deleted")


async def templates_page(request: web.Request) -> web.Response:
    """Which notices have a template message for when the 48-hour window has closed (read-only:
    template ids come from the WeChat console and live in the config)."""
    member, services = cw.manager(request), cw.services(request)
    slug = next((s for s, i in services.community_ids.items() if i == member.community_id), None)
    accounts = [a for a in services.settings.accounts if a.community == slug]
    return await cw.render(request, "manage/templates.html", {"accounts": accounts, "kinds": texts.NOTICE_KINDS})
