"""Escalated threads: the list, the thread page (live over server-sent events), taking over,
answering through the outbox, and closing (the resident goes back to the bot)."""

from __future__ import annotations

import secrets

from aiohttp import web

from bot import office_hours
from bot.console import answer, live
from bot.console import view as cw
from bot.texts import console as texts
from bot.texts import handoff as handoff_texts
from storage.models import Building
from storage.staff import canned, directory, replies, threads


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/threads", index)
    router.add_get("/threads/{id:\\d+}", page)
    router.add_get("/threads/{id:\\d+}/live", live.stream)
    router.add_post("/threads/{id:\\d+}/take", take)
    router.add_post("/threads/{id:\\d+}/reply", reply)
    router.add_post("/threads/{id:\\d+}/close", close)


async def index(request: web.Request) -> web.Response:
    """The waiting threads; the page polls it (htmx) and swaps in just the table."""
    member, services = cw.staff(request), cw.services(request)
    member.require("threads")
    async with services.db.sessions() as session:
        rows = await threads.escalated(session, community_id=member.community_id, grid_ids=member.grid_ids)
        buildings = {b.id: b.name for b in await directory.buildings(session, member.community_id)}
    now = services.clock()
    late = {row.resident.id for row in rows if _silent_too_long(row.conversation, services.settings, now)}
    template = "threads/_rows.html" if cw.is_htmx(request) else "threads/index.html"
    return await cw.render(request, template, {"rows": rows, "late": late, "building_names": buildings,
                                               "poll_seconds": services.settings.console.threads_poll_seconds})


def _silent_too_long(conversation, settings, now) -> bool:
    """Past the silence timeout: the bot takes the resident back at their next message."""
    deadline = office_hours.silence_deadline(conversation, settings)
    return deadline is not None and now > deadline


async def resident_of(session, request: web.Request):
    """The thread's resident, if within reach (404 otherwise, as if there were none)."""
    member = cw.staff(request)
    member.require("threads")
    resident = await threads.resident_in_reach(session, resident_id=cw.path_id(request),
                                               community_ids=frozenset({member.community_id}),
                                               grid_ids=member.grid_ids)
    if resident is None:
        raise web.HTTPNotFound()
    return resident


async def page(request: web.Request, *, error: str | None = None, status: int = 200, kept: str = "") -> web.Response:
    services = cw.services(request)
    async with services.db.sessions() as session:
        resident = await resident_of(session, request)
        conversation = await threads.conversation_of(session, resident.id)
        before = cw.int_or_none(request.query.get("before"))
        shown = await replies.window(session, community_id=resident.community_id, openid=resident.openid,
                                     before_id=before)
        building = await session.get(Building, resident.building_id) if resident.building_id else None
        context = {"resident": resident, "conversation": conversation, "lines": shown.lines, "window": shown,
                   "before": before, "building": building, "claim": await threads.claim_of(session, resident.id),
                   "canned": await canned.all_of(session, resident.community_id),
                   "escalated": bool(conversation and conversation.handoff), "form_key": secrets.token_hex(16),
                   "last_id": shown.last_id, "error": error, "kept": kept, "max_reply": replies.MAX_LENGTH}
    return await cw.render(request, "threads/thread.html", context, status=status)


async def take(request: web.Request) -> web.StreamResponse:
    services, member = cw.services(request), cw.staff(request)
    async with services.db.sessions.begin() as session:
        resident = await resident_of(session, request)
        conversation = await threads.conversation_of(session, resident.id)
        if conversation is None or not conversation.handoff:
            refused = texts.THREAD_NOT_ESCALATED
        else:
            refused = None
            await threads.take(session, resident=resident, staff_id=member.id, staff_name=member.name,
                               now=services.clock())
            await cw.audit(session, request, "thread.take", target=f"resident:{resident.id}")
    if refused:
        return await page(request, error=refused, status=409)
    raise cw.see_other(f"/threads/{resident.id}", done="taken")


async def reply(request: web.Request) -> web.StreamResponse:
    """Answer from the thread page; answering also takes the thread over."""
    services, member = cw.services(request), cw.staff(request)
    form = await request.post()
    text = str(form.get("text", "")).strip()
    try:
        answer.check_text(text)
        async with services.db.sessions.begin() as session:
            resident = await resident_of(session, request)
            conversation = await threads.conversation_of(session, resident.id)
            if conversation is None or not conversation.handoff:
                raise cw.Refused(texts.THREAD_NOT_ESCALATED, 409)
            account = answer.account_to_reach(request, resident)
            now = services.clock()
            outbox_id = await replies.send(session, community_id=resident.community_id, account=account,
                                           openid=resident.openid, text=text, now=now,
                                           form_key=str(form.get("form_key", "")) or secrets.token_hex(16))
            if outbox_id is not None:
                await threads.answered(session, conversation, now=now)
                await threads.take(session, resident=resident, staff_id=member.id, staff_name=member.name, now=now)
                await cw.audit(session, request, "thread.reply", target=f"resident:{resident.id}",
                               detail={"outbox_id": outbox_id})
    except cw.Refused as exc:
        return await page(request, error=exc.message, status=exc.status, kept=text)
    services.wake_outbox()
    raise cw.see_other(f"/threads/{resident.id}", done="replied")


async def close(request: web.Request) -> web.StreamResponse:
    services = cw.services(request)
    async with services.db.sessions.begin() as session:
        resident = await resident_of(session, request)
        now = services.clock()
        closed = await threads.close(session, resident=resident, now=now)
        if closed:
            await _tell_closed(session, request, resident, now)
            await cw.audit(session, request, "thread.close", target=f"resident:{resident.id}")
    if not closed:
        return await page(request, error=texts.THREAD_NOT_ESCALATED, status=409)
    services.wake_outbox()
    raise cw.see_other("/threads", done="closed")


async def _tell_closed(session, request: web.Request, resident, now) -> None:
    """The resident learns the bot is back (when the account can still reach them)."""
    account = cw.account_for(request, resident.community_id)
    if account is None or not resident.subscribed:
        return
    await replies.send(session, community_id=resident.community_id, account=account, openid=resident.openid,
                       text=handoff_texts.CLOSED_BY_STAFF, now=now,
                       form_key=f"thread-close:{resident.id}:{now.isoformat()}")
