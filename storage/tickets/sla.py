"""Deadlines (SLA): which rule applies, and when a ticket is due, in Chinese working days.

Calendar maths happens in Asia/Shanghai; results are aware UTC datetimes (how they are stored).
Hour and minute limits are wall-clock (an emergency does not wait for Monday); day limits count
working days from the chinesecalendar package, which knows official holidays and the make-up
workdays (调休) that fall on weekends, overlaid with ``tickets.holidays`` / ``tickets.extra_workdays``
from the config (the State Council publishes next year's dates in autumn; the package follows
later). For a year neither knows, weekends and the statutory holidays with a fixed date (1 Jan,
1 May, 1–3 Oct) are days off — better than counting New Year's Day as a workday — and a warning
is logged; ``calendar_gap`` tells start-up and ``linli report`` to warn before the year turns.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import chinese_calendar

from bot.config import SlaRule, TicketSettings
from bot.texts import notices
from nlp.timephrase import SHANGHAI

log = logging.getLogger("linli.tickets")

_LIMIT = re.compile(r"^(\d+)(m|h|wd)$")


def rule_for(settings: TicketSettings, *, kind: str, category: str | None, grade: str) -> SlaRule:
    """The first rule whose every condition holds (the last rule has none, so one always does)."""
    for rule in settings.sla:
        if rule.grades and grade not in rule.grades:
            continue
        if rule.kinds and kind not in rule.kinds:
            continue
        if rule.categories and category not in rule.categories:
            continue
        return rule
    return settings.sla[-1]


def deadlines(rule: SlaRule, start: datetime, settings: TicketSettings) -> tuple[datetime, datetime]:
    """(respond by, resolve by) for a ticket received at ``start``."""
    return due_at(start, rule.respond, settings), due_at(start, rule.resolve, settings)


def due_at(start: datetime, limit: str, settings: TicketSettings) -> datetime:
    match = _LIMIT.match(limit)
    if match is None:
        raise ValueError(f"bad SLA limit {limit!r}")
    amount, unit = int(match.group(1)), match.group(2)
    if unit == "m":
        return (start + timedelta(minutes=amount)).astimezone(timezone.utc)
    if unit == "h":
        return (start + timedelta(hours=amount)).astimezone(timezone.utc)
    day = add_working_days(start.astimezone(SHANGHAI).date(), amount, settings)
    hour, minute = (int(part) for part in settings.workday_end.split(":"))
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(timezone.utc)


def add_working_days(day: date, count: int, settings: TicketSettings | None = None) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself never counts)."""
    while count > 0:
        day += timedelta(days=1)
        if is_workday(day, settings):
            count -= 1
    return day


# Statutory holidays whose date never moves (元旦, 劳动节, 国庆节); the lunar ones and the make-up
# workdays differ every year, so only the published calendar knows them.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})


def is_workday(day: date, settings: TicketSettings | None = None) -> bool:
    """The config overlay first, then the package, then weekends and the fixed-date holidays."""
    if settings is not None and day in settings.extra_workdays:
        return True
    if settings is not None and day in settings.holidays:
        return False
    known = _package_workday(day)
    if known is not None:
        return known
    _warn_unknown_year(day.year)
    return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def _package_workday(day: date) -> bool | None:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def covers(year: int, settings: TicketSettings | None = None) -> bool:
    """Whether that year's holidays are known: by the package, or listed in the config overlay."""
    if _package_workday(date(year, 6, 1)) is not None:
        return True
    return settings is not None and any(day.year == year for day in settings.holidays)


def calendar_gap(today: date, settings: TicketSettings | None = None) -> int | None:
    """The year whose holidays are missing and soon needed: this year, or from 1 November on the
    next one (a 15-working-day deadline set in December already reaches into January)."""
    if not covers(today.year, settings):
        return today.year
    if today.month >= 11 and not covers(today.year + 1, settings):
        return today.year + 1
    return None


@lru_cache(maxsize=None)
def _warn_unknown_year(year: int) -> None:
    log.warning("chinesecalendar has no holidays for %s: counting weekends and 1/1, 5/1, 10/1-10/3 only; "
                "upgrade chinesecalendar or list the year in tickets.holidays / tickets.extra_workdays", year)


def local_text(moment: datetime) -> str:
    """A moment as people here read it: "11月25日（周三）18:00" (Asia/Shanghai)."""
    local = moment.astimezone(SHANGHAI)
    return notices.MOMENT.format(month=local.month, day=local.day, weekday=notices.WEEKDAYS[local.weekday()],
                                 time=local.strftime("%H:%M"))


def expected_date_text(ticket) -> str:
    """When the resident may expect the ticket done: "11月25日（周三）18:00前" (its resolve deadline)."""
    return notices.BEFORE.format(moment=local_text(ticket.resolve_due_at))
