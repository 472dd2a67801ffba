"""How often a care household is visited: weekly, fortnightly, monthly, or an RFC 5545 RRULE.

Occurrences are local dates counted from the schedule's anchor (its first visit day), computed
with python-dateutil's rrule, so an RRULE means exactly what RFC 5545 says.

Monthly on a day some months lack: the named ``monthly`` schedule anchored on the 29th–31st
falls on the last day of shorter months (31 Jan → 28 Feb → 31 Mar → 30 Apr), since a visit
should never silently skip a month. A raw RRULE keeps RFC 5545's rule that invalid dates are
skipped (``FREQ=MONTHLY;BYMONTHDAY=31`` has no February); write ``BYMONTHDAY=-1`` for "the last
day" or ``BYMONTHDAY=30,-1;BYSETPOS=1`` for "the 30th or the last day".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from dateutil import rrule

from bot.texts import members as t

NAMED = ("weekly", "fortnightly", "monthly")
_TOO_OFTEN = {rrule.SECONDLY, rrule.MINUTELY, rrule.HOURLY}


class RecurrenceError(ValueError):
    """The schedule cannot be read; the message says why (for staff, in Chinese)."""


def build(spec: str, anchor: date) -> rrule.rrule:
    """The rule for a spec; raises RecurrenceError with a readable message."""
    text = (spec or "").strip()
    start = datetime.combine(anchor, time())
    if text.lower() == "weekly":
        return rrule.rrule(rrule.WEEKLY, dtstart=start)
    if text.lower() == "fortnightly":
        return rrule.rrule(rrule.WEEKLY, interval=2, dtstart=start)
    if text.lower() == "monthly":
        day = anchor.day
        by_day = (day,) if day <= 28 else (day, -1)  # the day, or the month's last day when it has no such day
        return rrule.rrule(rrule.MONTHLY, bymonthday=by_day, bysetpos=1 if day > 28 else None, dtstart=start)
    return _rrule(text, start)


def _rrule(text: str, start: datetime) -> rrule.rrule:
    body = text[len("RRULE:"):] if text.upper().startswith("RRULE:") else text
    if "FREQ=" not in body.upper():
        raise RecurrenceError(t.RECURRENCE_UNKNOWN.format(spec=text))
    try:
        rule = rrule.rrulestr(body, dtstart=start, ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(t.RECURRENCE_BAD.format(spec=text, error=exc)) from None
    if not isinstance(rule, rrule.rrule):
        raise RecurrenceError(t.RECURRENCE_ONE_RULE)
    if rule._freq in _TOO_OFTEN:  # dateutil keeps the frequency only in this attribute
        raise RecurrenceError(t.RECURRENCE_TOO_OFTEN)
    return rule


def validate(spec: str, anchor: date) -> str:
    """The spec, normalised, if it yields at least one visit on or after the anchor."""
    text = spec.strip()
    if text.lower() in NAMED:
        text = text.lower()
    if first_on_or_after(text, anchor, anchor) is None:
        raise RecurrenceError(t.RECURRENCE_EMPTY.format(spec=spec, anchor=anchor))
    return text


def next_after(spec: str, anchor: date, after: date, *, not_before: date | None = None) -> date | None:
    """The first occurrence later than ``after`` and not before ``not_before``; None when the
    rule has ended (COUNT / UNTIL)."""
    floor = after + timedelta(days=1)
    if not_before is not None and not_before > floor:
        floor = not_before
    return first_on_or_after(spec, anchor, floor)


def first_on_or_after(spec: str, anchor: date, day: date) -> date | None:
    found = build(spec, anchor).after(datetime.combine(day, time()), inc=True)
    return found.date() if found else None
