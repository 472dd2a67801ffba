"""Deadlines (SLA): which rule applies, and when a ticket is due, in Chinese working days.

Calendar maths happens in Asia/Shanghai; results are aware UTC datetimes (how they are stored).
Hour and minute limits are wall-clock (an emergency does not wait for Monday); day limits count
working days from the chinesecalendar package, which knows official holidays and the make-up
workdays (调休) that fall on weekends. Beyond the years it knows, weekends are the only days off
(a warning is logged so an operator upgrades the package).
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
    day = add_working_days(start.astimezone(SHANGHAI).date(), amount)
    hour, minute = (int(part) for part in settings.workday_end.split(":"))
    return datetime.combine(day, time(hour, minute), SHANGHAI).astimezone(timezone.utc)


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (``day`` itself never counts)."""
    while count > 0:
        day += timedelta(days=1)
        if is_workday(day):
            count -= 1
    return day


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


@lru_cache(maxsize=None)
def _warn_unknown_year(year: int) -> None:
    log.warning("chinesecalendar has no holidays for %s: counting weekends only; upgrade chinesecalendar", year)


def local_text(moment: datetime) -> str:
    """A moment as people here read it: "11月25日（周三）18:00" (Asia/Shanghai)."""
    local = moment.astimezone(SHANGHAI)
    return notices.MOMENT.format(month=local.month, day=local.day, weekday=notices.WEEKDAYS[local.weekday()],
                                 time=local.strftime("%H:%M"))


def expected_date_text(ticket) -> str:
    """When the resident may expect the ticket done: "11月25日（周三）18:00前" (its resolve deadline)."""
    return notices.BEFORE.format(moment=local_text(ticket.resolve_due_at))
