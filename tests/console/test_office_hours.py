"""Office hours for escalated threads: Chinese working days and the configured periods."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.office_hours import is_open, next_opening, off_hours_note
from nlp.timephrase import SHANGHAI

HOURS = ["08:30-12:00", "14:30-17:30"]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("moment, open_", [
    (at(2026, 11, 23, 10, 0), True),     # Monday morning
    (at(2026, 11, 23, 12, 0), False),    # lunch
    (at(2026, 11, 23, 17, 30), False),   # the end is not inside
    (at(2026, 11, 28, 10, 0), False),    # Saturday
    (at(2026, 10, 5, 10, 0), False),     # National Day holiday (a Monday)
    (at(2026, 10, 10, 10, 0), True),     # make-up workday (a Saturday)
])
def test_is_open(moment, open_):
    assert is_open(moment, HOURS) is open_


@pytest.mark.parametrize("moment, note", [
    (at(2026, 11, 23, 12, 30), "今天14:30"),
    (at(2026, 11, 23, 20, 0), "明天8:30"),
    (at(2026, 11, 27, 18, 0), "11月30日（周一）8:30"),   # Friday evening → Monday
    (at(2026, 10, 1, 9, 0), "10月8日（周四）8:30"),     # the holiday week
    (at(2026, 10, 9, 19, 0), "明天8:30"),               # Friday before a make-up Saturday
])
def test_the_note_says_when(moment, note):
    assert off_hours_note(moment, HOURS) == f"现在是非工作时间，工作人员将于{note}后回复您，请直接留言。"


def test_no_note_when_open_or_without_hours():
    assert off_hours_note(at(2026, 11, 23, 10, 0), HOURS) is None
    assert off_hours_note(at(2026, 11, 23, 22, 0), []) is None
    assert next_opening(at(2026, 11, 23, 22, 0), []) is None


def test_bad_periods_are_refused_at_start_up():
    from bot.config import ConfigError
    from tests.conftest import make_settings

    for bad in (["8:30-12:00"], ["12:00-08:30"], ["08:30"]):
        with pytest.raises(ConfigError, match="office_hours"):
            make_settings("sqlite+aiosqlite:///x.db", console={"office_hours": bad})
