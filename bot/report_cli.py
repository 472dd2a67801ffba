"""`linli report --from 2026-11-01 --to 2026-11-30`: the three rates by grid and by category.

Dates are Asia/Shanghai calendar days, both included; the rates cover the tickets received in
them, measured now (see storage.tickets.rates for the exact definitions). Staff read the output,
so it is in Chinese (bot/texts/notices.py); columns line up in a terminal (CJK characters are two
columns wide). When the holiday calendar does not know the year deadlines now fall in, a warning
goes to stderr first: staff reading the rates are the ones who notice wrong deadlines.
"""

from __future__ import annotations

import asyncio
import unicodedata
from datetime import date, datetime, time, timedelta, timezone

import click
from sqlalchemy import select

from bot.config import Settings
from bot.texts import notices
from nlp.timephrase import SHANGHAI
from storage.db import Database
from storage.models import Community
from storage.tickets import rates, sla
from storage.tickets.rates import RatesReport, Tally



@click.command("report")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML settings file (default: $LINLI_CONFIG or ./config.toml).")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day, e.g. 2026-11-01.")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day (included).")
@click.option("--community", default=None, help="Community slug (default: every community in the config).")
@click.option("--as-of", "as_of", default=None, type=click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%d"]),
              help="Measure as things stood then (Asia/Shanghai), e.g. \"2026-12-01 09:00\" (default: now).")
def report(config_path: str | None, start: datetime, end: datetime, community: str | None,
           as_of: datetime | None) -> None:
    """Print the three rates (三率) of the tickets received between two dates, by grid and category."""
    from bot.cli import _settings

    if end < start:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    settings = _settings(config_path)
    slugs = [c.slug for c in settings.communities if community in (None, c.slug)]
    if not slugs:
        raise click.BadParameter(f"no community {community!r} in the config", param_hint="--community")
    moment = as_of.replace(tzinfo=SHANGHAI) if as_of else datetime.now(timezone.utc)
    if (year := sla.calendar_gap(moment.astimezone(SHANGHAI).date(), settings.tickets)) is not None:
        click.echo(notices.REPORT_CALENDAR_GAP.format(year=year), err=True)  # on stderr: the table stays clean
    click.echo(asyncio.run(build_report(settings, slugs, start.date(), end.date(), moment)))


async def build_report(settings: Settings, slugs: list[str], first: date, last: date, as_of: datetime) -> str:
    start, end = _day_start(first), _day_start(last + timedelta(days=1))
    names = {c.slug: c.name for c in settings.communities}
    db = Database(settings.database.url)
    try:
        async with db.sessions() as session:
            ids = dict((await session.execute(select(Community.slug, Community.id)
                                              .where(Community.slug.in_(slugs)))).all())
            sections = [render(names[slug], first, last, as_of,
                               await rates.compute(session, community_id=ids[slug], start=start, end=end, as_of=as_of)
                               if slug in ids else RatesReport())
                        for slug in slugs]
    finally:
        await db.dispose()
    return "\n\n".join(sections)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(timezone.utc)


def render(community: str, first: date, last: date, as_of: datetime, report: RatesReport) -> str:
    title = notices.REPORT_TITLE.format(community=community, first=first.isoformat(), last=last.isoformat(),
                                        as_of=f"{as_of.astimezone(SHANGHAI):%Y-%m-%d %H:%M}")
    lines = [title, "", notices.REPORT_BY_GRID]
    lines += table(notices.REPORT_GRID, report.by_grid, report.total)
    lines += ["", notices.REPORT_BY_CATEGORY]
    lines += table(notices.REPORT_CATEGORY, report.by_category, report.total)
    lines += ["", notices.REPORT_NOTE]
    return "\n".join(lines)


def table(label: str, groups: dict[str, Tally], total: Tally) -> list[str]:
    rows = [(label, *notices.REPORT_COLUMNS)]
    rows += [_row(name, tally) for name, tally in groups.items()]
    rows.append(_row(notices.REPORT_TOTAL, total))
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(pad(cell, widths[i], left=i == 0) for i, cell in enumerate(row)).rstrip() for row in rows]


def _row(name: str, tally: Tally) -> tuple[str, ...]:
    return (name, str(tally.tickets), percent(tally.responded_in_time, tally.response_measured),
            percent(tally.resolved_in_time, tally.resolution_measured), percent(tally.satisfied, tally.rated))


def percent(part: int, whole: int) -> str:
    """"92.3% (12/13)"; "—" when nothing could be measured yet."""
    return f"{part / whole:.1%} ({part}/{whole})" if whole else "—"


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, size: int, *, left: bool) -> str:
    gap = " " * (size - width(text))
    return text + gap if left else gap + text
