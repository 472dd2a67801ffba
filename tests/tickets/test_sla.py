"""Deadlines: rules per grade and category, wall-clock hours, and Chinese working days across the
2026 National Day week (Oct 1–7 off; Sunday Sep 20 and Saturday Oct 10 are make-up workdays)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from bot.config import ConfigError
from nlp.timephrase import SHANGHAI
from storage.tickets import expected_date_text
from storage.tickets.sla import add_working_days, calendar_gap, covers, due_at, is_workday, rule_for
from tests.tickets.conftest import file_ticket, ticket_settings


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def tickets_config():
    return ticket_settings("sqlite+aiosqlite:///unused.db").tickets


def test_the_calendar_knows_the_2026_national_day_week():
    assert not any(is_workday(date(2026, 10, day)) for day in range(1, 8))
    assert is_workday(date(2026, 9, 20)) and is_workday(date(2026, 10, 10))  # Sunday, Saturday: make-up days
    assert not is_workday(date(2026, 10, 11))
    assert not is_workday(date(2025, 10, 1)) and is_workday(date(2025, 9, 28))  # 2025 is covered too


def test_a_year_the_calendar_does_not_know_counts_weekends_and_the_fixed_holidays():
    assert is_workday(date(2099, 1, 2))  # a Friday
    assert not is_workday(date(2099, 1, 3))  # a Saturday
    assert not any(is_workday(date(2099, month, day)) for month, day in ((1, 1), (5, 1), (10, 1), (10, 2), (10, 3)))
    assert is_workday(date(2099, 10, 5))  # a Monday: only 1–3 October are fixed


def test_working_days_across_new_year_into_an_unknown_year():
    # Thu 2099-12-24 + 7: Dec 25 (1), 28–31 (2–5), Fri Jan 1 is New Year's Day, Mon Jan 4 (6), Jan 5 (7)
    assert add_working_days(date(2099, 12, 24), 7) == date(2100, 1, 5)


def test_the_config_overlay_comes_first(tickets_config):
    overlay = ticket_settings("sqlite+aiosqlite:///unused.db", holidays=["2027-01-01", "2027-01-03"],
                              extra_workdays=["2027-01-02", "2026-10-03"]).tickets
    assert is_workday(date(2026, 10, 3), overlay) and not is_workday(date(2026, 10, 3))  # overrides the package
    assert not is_workday(date(2027, 1, 1), overlay) and is_workday(date(2027, 1, 2), overlay)
    # Thu 2026-12-24 + 7: Dec 25, 28, 29, 30, 31 (5), Sat Jan 2 a make-up day (6), Mon Jan 4 (7)
    assert due_at(shanghai(2026, 12, 24, 10, 0), "7wd", overlay) == shanghai(2027, 1, 4, 18, 0)


def test_the_calendar_gap_is_next_year_from_november():
    known = ticket_settings("sqlite+aiosqlite:///unused.db", holidays=["2099-01-01"]).tickets
    assert calendar_gap(date(2099, 10, 31), known) is None
    assert calendar_gap(date(2099, 11, 1), known) == 2100
    assert calendar_gap(date(2099, 11, 1)) == 2099  # without the overlay this very year is unknown
    both = ticket_settings("sqlite+aiosqlite:///unused.db", holidays=["2099-01-01", "2100-01-01"]).tickets
    assert calendar_gap(date(2099, 12, 31), both) is None
    assert covers(2025) and not covers(2099)


def test_seven_working_days_from_the_eve_of_national_day(tickets_config):
    # Wed Sep 30: Oct 8 (1), 9 (2), Sat 10 (3, make-up), 12 (4), 13 (5), 14 (6), 15 (7)
    assert add_working_days(date(2026, 9, 30), 7) == date(2026, 10, 15)
    assert due_at(shanghai(2026, 9, 30, 10, 0), "7wd", tickets_config) == shanghai(2026, 10, 15, 18, 0)


def test_fifteen_working_days_across_the_holiday(tickets_config):
    # … 15 (7), 16 (8), 19 (9), 20 (10), 21 (11), 22 (12), 23 (13), 26 (14), 27 (15)
    assert due_at(shanghai(2026, 9, 30, 10, 0), "15wd", tickets_config) == shanghai(2026, 10, 27, 18, 0)


def test_a_report_on_a_holiday_starts_counting_after_it(tickets_config):
    assert due_at(shanghai(2026, 10, 3, 9, 0), "1wd", tickets_config) == shanghai(2026, 10, 8, 18, 0)
    assert due_at(shanghai(2026, 10, 9, 20, 0), "1wd", tickets_config) == shanghai(2026, 10, 10, 18, 0)


def test_a_make_up_sunday_counts(tickets_config):
    assert due_at(shanghai(2026, 9, 19, 11, 0), "1wd", tickets_config) == shanghai(2026, 9, 20, 18, 0)


def test_hour_limits_are_wall_clock_even_on_holidays(tickets_config):
    assert due_at(shanghai(2026, 10, 3, 2, 0), "30m", tickets_config) == shanghai(2026, 10, 3, 2, 30)
    assert due_at(shanghai(2026, 10, 3, 2, 0), "2h", tickets_config) == shanghai(2026, 10, 3, 4, 0)
    assert due_at(shanghai(2026, 10, 1, 9, 0), "24h", tickets_config) == shanghai(2026, 10, 2, 9, 0)
    assert due_at(shanghai(2026, 10, 1, 9, 0), "24h", tickets_config).tzinfo == timezone.utc


@pytest.mark.parametrize("kind, category, grade, rule, respond, resolve", [
    ("repair", "gas", "red", "red", "30m", "2h"),  # red wins over the category
    ("repair", "water_drain", "blue", "utilities", "2h", "24h"),
    ("repair", "heating", "yellow", "utilities", "2h", "24h"),
    ("complaint", "neighbours", "yellow", "complex", "24h", "15wd"),
    ("suggestion", None, "blue", "complex", "24h", "15wd"),
    ("repair", "lighting", "blue", "general", "24h", "7wd"),
    ("complaint", None, "blue", "general", "24h", "7wd"),
])
def test_rules_by_grade_kind_and_category(tickets_config, kind, category, grade, rule, respond, resolve):
    chosen = rule_for(tickets_config, kind=kind, category=category, grade=grade)
    assert (chosen.name, chosen.respond, chosen.resolve) == (rule, respond, resolve)


@pytest.mark.parametrize("values, respond, resolve", [
    ({"grade": "red", "category": "gas", "description": "楼道里有很大的煤气味"},
     shanghai(2026, 9, 30, 10, 30), shanghai(2026, 9, 30, 12, 0)),
    ({"category": "water_drain", "description": "家里停水了"}, shanghai(2026, 9, 30, 12, 0),
     shanghai(2026, 10, 1, 10, 0)),
    ({}, shanghai(2026, 10, 1, 10, 0), shanghai(2026, 10, 15, 18, 0)),
    ({"kind": "complaint", "category": "neighbours", "description": "楼上邻居占用楼道"},
     shanghai(2026, 10, 1, 10, 0), shanghai(2026, 10, 27, 18, 0)),
])
async def test_a_ticket_filed_before_the_holiday_carries_its_deadlines(db, world, settings, values, respond,
                                                                         resolve):
    ticket = await file_ticket(db, world, settings, shanghai(2026, 9, 30, 10, 0), **values)
    assert (ticket.respond_due_at, ticket.resolve_due_at) == (respond, resolve)


async def test_the_resident_reads_the_expected_date(db, world, settings):
    ticket = await file_ticket(db, world, settings, shanghai(2026, 9, 30, 10, 0))
    assert expected_date_text(ticket) == "10月15日（周四）18:00前"
    monday = await file_ticket(db, world, settings, shanghai(2026, 11, 23, 10, 0))
    assert expected_date_text(monday) == "12月2日（周三）18:00前"


def test_a_catch_all_rule_must_come_last():
    with pytest.raises(ConfigError, match="last"):
        ticket_settings("sqlite+aiosqlite:///unused.db",
                        sla=[{"name": "red", "grades": ["red"], "respond": "30m", "resolve": "2h"}])


def test_a_bad_limit_names_the_setting():
    with pytest.raises(ConfigError, match=r"tickets\.sla.*resolve"):
        ticket_settings("sqlite+aiosqlite:///unused.db", sla=[{"name": "x", "respond": "1h", "resolve": "7 days"}])
