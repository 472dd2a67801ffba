"""The ticket inbox: filters, search, sorting and paging (htmx swaps the results in place)."""

from __future__ import annotations

from math import ceil

from aiohttp import web

from bot.console import view as cw
from storage.staff import inbox


def add_routes(router: web.UrlDispatcher) -> None:
    from bot.console.views import ticket

    router.add_get("/tickets", inbox_page)
    ticket.add_routes(router)


async def inbox_page(request: web.Request) -> web.Response:
    member = cw.staff(request)
    member.require("tickets")
    services = cw.services(request)
    filters = inbox.Filters.parse(request.query)
    page_size = services.settings.console.page_size
    async with services.db.sessions() as session:
        rows, total = await inbox.search(session, community_id=member.community_id, grid_ids=member.grid_ids,
                                         filters=filters, now=services.clock(), page_size=page_size)
        grids = await inbox.grids(session, member.community_id, member.grid_ids)
        people = await inbox.handlers(session, member.community_id)
    context = {"rows": rows, "total": total, "filters": filters, "pages": max(1, ceil(total / page_size)),
               "grids": grids, "people": people, "status_choices": inbox.STATUS_CHOICES}
    if cw.is_htmx(request) and request.headers.get("HX-Target") == "results":
        return await cw.render(request, "tickets/_results.html", context)
    return await cw.render(request, "tickets/inbox.html", context)
