"""Office hours for escalated threads: Chinese working days (holidays and make-up workdays from
chinesecalendar, as the ticket deadlines count them) and the local periods in [console] office_hours.

No periods configured means no promise is made: the hand-off message says nothing about when.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.texts import handoff as texts
from nlp.timephrase import SHANGHAI
from storage.tickets.sla import is_workday

WEEKDAYS = "一二三四五六日"
LOOKAHEAD_DAYS = 40  # longer than any Chinese holiday run (Spring Festival with its weekends)
SEARCH_DAYS = 3660  # how far after_office_time looks


def periods(specs: list[str]) -> list[tuple[time, time]]:
    out = []
    for spec in specs:
        start, end = spec.split("-")
        out.append((time.fromisoformat(start), time.fromisoformat(end)))
    return sorted(out)


def is_open(now: datetime, specs: list[str], calendar=None) -> bool:
    """calendar: the [tickets] settings, whose holidays and extra_workdays overlay the package's."""
    local = now.astimezone(SHANGHAI)
    return is_workday(local.date(), calendar) and any(start <= local.time() < end for start, end in periods(specs))


def next_opening(now: datetime, specs: list[str], calendar=None) -> datetime | None:
    """When staff are next at work (None when open now or when no hours are configured)."""
    if not specs or is_open(now, specs, calendar):
        return None
    local = now.astimezone(SHANGHAI)
    for offset in range(LOOKAHEAD_DAYS):
        day = local.date() + timedelta(days=offset)
        if not is_workday(day, calendar):
            continue
        for start, _end in periods(specs):
            opening = datetime.combine(day, start, SHANGHAI)
            if opening > local:
                return opening
    return None


def when_text(now: datetime, opening: datetime) -> str:
    """ "今天14:30", "明天8:30" or "10月8日（周四）8:30" — as the resident reads it."""
    today: date = now.astimezone(SHANGHAI).date()
    clock = f"{opening.hour}:{opening.minute:02d}"
    if opening.date() == today:
        return texts.TODAY.format(time=clock)
    if opening.date() == today + timedelta(days=1):
        return texts.TOMORROW.format(time=clock)
    return texts.LATER.format(month=opening.month, day=opening.day, weekday=WEEKDAYS[opening.weekday()], time=clock)


def after_office_time(start: datetime, amount: timedelta, specs: list[str], calendar=None) -> datetime:
    """The moment ``amount`` of office time has passed since ``start`` (wall-clock time without
    configured hours). A hand-off's silence timeout counts this way, so a request made in the
    evening, or a message sent over the weekend, still waits for staff when they come in."""
    if not specs:
        return start + amount
    local, remaining = start.astimezone(SHANGHAI), amount
    day = local.date()
    for _ in range(SEARCH_DAYS):
        if is_workday(day, calendar):
            for opens, closes in periods(specs):
                begin = max(datetime.combine(day, opens, SHANGHAI), local)
                end = datetime.combine(day, closes, SHANGHAI)
                if begin >= end:
                    continue
                if end - begin >= remaining:
                    return begin + remaining
                remaining -= end - begin
        day += timedelta(days=1)
    return start + amount  # only for absurd settings (years of office time): wall-clock then


def silence_deadline(conversation, settings) -> datetime | None:
    """When the bot may take a handed-off resident back, unless someone writes before: the
    silence timeout in office time after the hand-off, the resident's last message or staff's
    last answer, whichever came last (None: the conversation was never handed off)."""
    started, active = conversation.handoff_at, conversation.handoff_active_at
    since = max(started, active) if started and active else started or active
    if since is None:
        return None
    timeout = timedelta(minutes=settings.dialog.handoff_timeout_minutes)
    return after_office_time(since, timeout, settings.console.office_hours, settings.tickets)


def off_hours_note(now: datetime, specs: list[str], calendar=None) -> str | None:
    """The sentence to add to a hand-off message outside office hours, else None."""
    opening = next_opening(now, specs, calendar)
    return texts.OFF_HOURS.format(when=when_text(now, opening)) if opening else None
