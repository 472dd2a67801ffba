"""Dashboard exports: CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese) — the tickets
or any one summary table — and Excel (openpyxl: the tickets, then one sheet per summary: the
three rates, tickets per day, category, grade and grid, and volunteer hours and points per day).

Resident-written text can start with "=", "+", "-" or "@", which a spreadsheet would run as a
formula (CSV injection): CSV cells get a leading apostrophe, Excel cells are stored as text.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import Workbook
from sqlalchemy import select

from bot.console.render import local, percent
from bot.texts import console as texts
from bot.texts import notices
from storage.models import Grid, Resident
from storage.staff.dashboard import Figures
from storage.tickets.lifecycle import ACTIVE

GRADES = ("red", "yellow", "blue")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


async def ticket_rows(session, tickets, *, now: datetime) -> list[list]:
    grid_names = dict((await session.execute(select(Grid.id, Grid.name).where(
        Grid.id.in_({t.grid_id for t in tickets if t.grid_id})))).all()) if tickets else {}
    people = {r.id: r.name for r in await session.scalars(select(Resident).where(Resident.id.in_(
        {t.assignee_resident_id for t in tickets if t.assignee_resident_id}
        | {t.reporter_resident_id for t in tickets if t.reporter_resident_id})))} if tickets else {}
    rows = [list(texts.EXPORT_COLUMNS)]
    for t in tickets:
        late = t.status in ACTIVE and (t.resolve_due_at <= now or (t.first_response_at is None
                                                                   and t.respond_due_at <= now))
        rows.append([
            t.number, local(t.created_at, "%Y-%m-%d %H:%M"), notices.KIND_NAMES.get(t.kind, t.kind),
            notices.CATEGORY_NAMES.get(t.category or "other", t.category), notices.GRADE_NAMES.get(t.grade, t.grade),
            notices.STATUS_NAMES.get(t.status, t.status), grid_names.get(t.grid_id, ""), t.address or "",
            t.description, people.get(t.reporter_resident_id) or "",
            people.get(t.assignee_resident_id) or notices.TEAM_NAMES.get(t.assignee_team or "", ""),
            local(t.respond_due_at, "%Y-%m-%d %H:%M"), local(t.resolve_due_at, "%Y-%m-%d %H:%M"),
            local(t.first_response_at, "%Y-%m-%d %H:%M"), local(t.resolved_at, "%Y-%m-%d %H:%M"),
            notices.RATING_NAMES.get(t.rating or "", ""), texts.YES if late else ""])
    return rows


def _defuse(value) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_defuse(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[list], figures: Figures) -> bytes:
    """The tickets, then a sheet per summary (the three rates, per day, category, grade, grid and —
    for community-wide views — volunteering)."""
    book = Workbook()
    sheet = book.active
    sheet.title = texts.SHEET_TICKETS
    _fill(sheet, rows)
    for table, summary in summaries(figures).items():
        _fill(book.create_sheet(texts.EXPORT_TABLES[table]), summary)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def summaries(figures: Figures) -> dict[str, list[list]]:
    """Each summary table by its export name (bot/texts/console EXPORT_TABLES), header row first."""
    tables = {"rates": _rate_rows(figures), "days": _day_rows(figures),
              "categories": _share_rows(texts.CATEGORY_COLUMNS, figures.by_category.most_common(),
                                        notices.CATEGORY_NAMES),
              "grades": _share_rows(texts.GRADE_COLUMNS, [(g, figures.by_grade.get(g, 0)) for g in GRADES],
                                    notices.GRADE_NAMES),
              "grids": _share_rows(texts.GRID_COLUMNS, figures.by_grid.most_common(), {})}
    if figures.volunteering:
        tables["volunteering"] = _volunteering_rows(figures)
    return tables


def _day_rows(f: Figures) -> list[list]:
    return [list(texts.DAY_COLUMNS)] + [[d.isoformat(), n] for d, n in zip(f.days, f.per_day)]


def _share_rows(columns: tuple[str, ...], items: list[tuple[str, int]], names: dict[str, str]) -> list[list]:
    """Name, count and share of the period's tickets."""
    total = sum(n for _, n in items)
    return [list(columns)] + [[names.get(k, k), n, percent(n / total if total else None)] for k, n in items]


def _volunteering_rows(f: Figures) -> list[list]:
    rows = [list(texts.VOLUNTEERING_COLUMNS)]
    for values in zip(f.days, f.hours_per_day, f.volunteers_per_day, f.awarded_per_day, f.redeemed_per_day):
        rows.append([values[0].isoformat(), *values[1:]])
    rows.append([texts.RATE_TOTAL, f.volunteer_hours, sum(f.volunteers_per_day), f.points_awarded,
                 f.points_redeemed])
    return rows


def _fill(sheet, rows: list[list]) -> None:
    for row in rows:
        sheet.append(row)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with


def _rate_rows(figures: Figures) -> list[list]:
    rows = [list(texts.RATE_COLUMNS)]
    groups = [(texts.RATE_TOTAL, {texts.RATE_TOTAL: figures.rates.total}), (texts.RATE_BY_GRID, figures.rates.by_grid),
              (texts.RATE_BY_CATEGORY, figures.rates.by_category)]
    for group, tallies in groups:
        for name, tally in tallies.items():
            rows.append([group, name, tally.tickets, percent(tally.response_rate), percent(tally.resolution_rate),
                         percent(tally.satisfaction_rate)])
    return rows
