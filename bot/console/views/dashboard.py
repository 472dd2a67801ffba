"""The dashboard: tickets per day, category, grade and grid; the three rates; SLA compliance and the
overdue list; volunteer hours and points — as ECharts charts — and CSV / Excel export."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from bot.console import exports
from bot.console import view as cw
from bot.texts import console as texts
from bot.texts import notices
from nlp.timephrase import SHANGHAI
from storage.staff import dashboard

DEFAULT_DAYS = 30


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/dashboard", page)
    router.add_get("/dashboard/export.csv", export_csv)
    router.add_get("/dashboard/export.xlsx", export_xlsx)


def period(request: web.Request) -> tuple[date, date]:
    """From the query (from / to, local dates), else the last 30 days; at most a year, never reversed."""
    today = cw.services(request).clock().astimezone(SHANGHAI).date()
    last = _date(request.query.get("to")) or today
    first = _date(request.query.get("from")) or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    return max(first, last - timedelta(days=dashboard.MAX_DAYS - 1)), last


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def page(request: web.Request) -> web.Response:
    member, services = cw.staff(request), cw.services(request)
    member.require("dashboard")
    first, last = period(request)
    async with services.db.sessions() as session:
        figures = await dashboard.figures(session, community_id=member.community_id, grid_ids=member.grid_ids,
                                          first=first, last=last, now=services.clock())
    return await cw.render(request, "dashboard.html", {"f": figures, "first": first, "last": last,
                                                       "charts": _charts(figures), "now": services.clock(),
                                                       "tables": {k: v for k, v in texts.EXPORT_TABLES.items()
                                                                  if k != "volunteering" or figures.volunteering}})


def _charts(f: dashboard.Figures) -> dict[str, dict]:
    def named(counter, names) -> tuple[list[str], list[int]]:
        items = counter.most_common()
        return [names.get(k, k) for k, _ in items], [v for _, v in items]
    category = named(f.by_category, notices.CATEGORY_NAMES)
    grades = [g for g in ("red", "yellow", "blue") if f.by_grade.get(g)]
    grid = named(f.by_grid, {})
    rated = [(name, t) for name, t in f.rates.by_grid.items()]
    charts = {
        "per_day": {"type": "line", "labels": [d.strftime("%m-%d") for d in f.days], "values": f.per_day,
                    "name": texts.CHART_TICKETS},
        "category": {"type": "pie", "labels": category[0], "values": category[1]},
        "grade": {"type": "pie", "labels": [notices.GRADE_NAMES[g] for g in grades],
                  "values": [f.by_grade[g] for g in grades]},
        "grid": {"type": "bar", "labels": grid[0], "values": grid[1], "name": texts.CHART_TICKETS},
        "rates": {"type": "bar", "labels": [name for name, _ in rated], "series": [
            {"name": texts.RATE_NAMES[key], "values": [_pct(getattr(t, key)) for _, t in rated]}
            for key in ("response_rate", "resolution_rate", "satisfaction_rate")]},
    }
    if f.volunteering:
        charts["volunteering"] = _volunteering_chart(f)
    return charts


def _volunteering_chart(f: dashboard.Figures) -> dict:
    """Hours as bars on the left axis, points awarded and redeemed as lines on the right one."""
    return {"type": "bar", "labels": [d.strftime("%m-%d") for d in f.days],
            "axes": [texts.CHART_HOURS_AXIS, texts.CHART_POINTS_AXIS], "series": [
                {"name": texts.CHART_HOURS, "values": f.hours_per_day},
                {"name": texts.CHART_AWARDED, "values": f.awarded_per_day, "type": "line", "axis": 1},
                {"name": texts.CHART_REDEEMED, "values": f.redeemed_per_day, "type": "line", "axis": 1}]}


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


async def _export(request: web.Request, kind: str) -> tuple[bytes, str]:
    """CSV: the tickets, or the summary named by ``table``; Excel: everything, a sheet each."""
    member, services = cw.staff(request), cw.services(request)
    member.require("dashboard")
    first, last = period(request)
    table = request.query.get("table", "tickets")
    async with services.db.sessions.begin() as session:
        tickets = await dashboard.tickets_for_export(session, community_id=member.community_id,
                                                     grid_ids=member.grid_ids, first=first, last=last)
        figures = await dashboard.figures(session, community_id=member.community_id, grid_ids=member.grid_ids,
                                          first=first, last=last, now=services.clock())
        rows = await exports.ticket_rows(session, tickets, now=services.clock())
        tables = exports.summaries(figures)
        if kind == "csv" and table != "tickets" and table not in tables:
            raise web.HTTPNotFound()
        await cw.audit(session, request, "export", detail={"kind": kind, "from": first.isoformat(), "table": table,
                                                           "to": last.isoformat(), "tickets": len(tickets)})
    span = f"{first:%Y%m%d}-{last:%Y%m%d}"
    if kind == "xlsx":
        return exports.xlsx_bytes(rows, figures), f"dashboard-{span}.xlsx"
    if table == "tickets":
        return exports.csv_bytes(rows), f"tickets-{span}.csv"
    return exports.csv_bytes(tables[table]), f"{table}-{span}.csv"


async def export_csv(request: web.Request) -> web.Response:
    body, name = await _export(request, "csv")
    return web.Response(body=body, content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def export_xlsx(request: web.Request) -> web.Response:
    body, name = await _export(request, "xlsx")
    return web.Response(body=body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
