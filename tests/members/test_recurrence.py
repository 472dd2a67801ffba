"""Visit schedules: weekly, fortnightly, monthly (the 31st across short months), RFC 5545 RRULEs —
as dates, and as the visits the real jobs make when visits are logged or missed."""

from __future__ import annotations

from datetime import date

import pytest

from storage.member_models import CareHousehold
from storage.members import recurrence, visits
from storage.members.care import CareError
from storage.models import Resident
from tests.members.conftest import add_household, load, tick, visits_of


def dates(spec: str, anchor: date, count: int) -> list[date]:
    found, day = [], anchor - date.resolution
    for _ in range(count):
        day = recurrence.next_after(spec, anchor, day)
        found.append(day)
    return found


def test_weekly_and_fortnightly_count_from_the_first_visit_day():
    assert dates("weekly", date(2026, 11, 23), 3) == [date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)]
    assert dates("fortnightly", date(2026, 12, 28), 3) == [date(2026, 12, 28), date(2027, 1, 11), date(2027, 1, 25)]


def test_monthly_on_the_31st_falls_on_the_last_day_of_shorter_months():
    assert dates("monthly", date(2027, 1, 31), 5) == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31),
                                                      date(2027, 4, 30), date(2027, 5, 31)]
    assert dates("monthly", date(2027, 12, 30), 3) == [date(2027, 12, 30), date(2028, 1, 30), date(2028, 2, 29)]
    assert dates("monthly", date(2026, 11, 15), 2) == [date(2026, 11, 15), date(2026, 12, 15)]


def test_an_rrule_means_what_rfc_5545_says():
    assert dates("RRULE:FREQ=WEEKLY;BYDAY=MO,TH", date(2026, 11, 23), 3) == [date(2026, 11, 23), date(2026, 11, 26),
                                                                             date(2026, 11, 30)]
    assert dates("FREQ=MONTHLY;BYMONTHDAY=31", date(2027, 1, 31), 2) == [date(2027, 1, 31), date(2027, 3, 31)]
    assert dates("FREQ=MONTHLY;BYMONTHDAY=-1", date(2027, 1, 31), 2) == [date(2027, 1, 31), date(2027, 2, 28)]
    assert recurrence.next_after("FREQ=WEEKLY;COUNT=2", date(2026, 11, 23), date(2026, 11, 30)) is None


def test_the_next_visit_is_never_in_the_past():
    assert recurrence.next_after("weekly", date(2026, 11, 2), date(2026, 11, 2), not_before=date(2026, 11, 24)) == \
        date(2026, 11, 30)


@pytest.mark.parametrize("spec, problem", [("每周", "看不懂周期"), ("FREQ=HOURLY", "最短为一天"),
                                           ("FREQ=DAILY;UNTIL=20200101", "没有任何走访日期"),
                                           ("FREQ=SOMETIMES", "有误")])
def test_a_schedule_that_cannot_be_read_says_why(spec, problem):
    with pytest.raises(recurrence.RecurrenceError, match=problem):
        recurrence.validate(spec, date(2026, 11, 23))


async def test_staff_get_the_reason_when_registering_a_bad_schedule(services, place):
    with pytest.raises(CareError, match="看不懂周期"):
        await add_household(services, place, every="每周")
    with pytest.raises(CareError, match="还不是党员中心户"):
        await add_household(services, place, member="o_li")


async def test_monthly_visits_across_month_ends_logged_and_missed(services, place, clock):
    clock.set(2027, 1, 31, 10, 0)
    household = await add_household(services, place, every="monthly")
    assert [v.due_date for v in await visits_of(services.db, household.id)] == [date(2027, 1, 31)]

    async def log_now() -> None:
        async with services.db.sessions.begin() as session:
            member = await session.get(Resident, place.people["o_member"])
            await visits.log_visit(session, await session.get(CareHousehold, household.id), by=member, note="好",
                                   now=clock(), settings=services.settings)

    await log_now()
    clock.set(2027, 2, 28, 10, 0)
    await log_now()
    clock.set(2027, 3, 31, 9, 0)  # not logged this time: reminded, reminded again, escalated
    for day in (31, 33, 35):
        clock.set(2027, 3, 1, 9, 0)
        clock.advance(days=day - 1)
        await tick(services)
    history = [(v.due_date, v.status) for v in await visits_of(services.db, household.id)]
    assert history == [(date(2027, 1, 31), "logged"), (date(2027, 2, 28), "logged"), (date(2027, 3, 31), "missed"),
                       (date(2027, 4, 30), "open")]
    assert (await load(services.db, CareHousehold, household.id)).active


async def test_a_schedule_that_runs_out_ends(services, place, clock):
    household = await add_household(services, place, every="FREQ=WEEKLY;COUNT=1")
    async with services.db.sessions.begin() as session:
        member = await session.get(Resident, place.people["o_member"])
        _, upcoming = await visits.log_visit(session, await session.get(CareHousehold, household.id), by=member,
                                             note="好", now=clock(), settings=services.settings)
    assert upcoming is None
    clock.advance(days=30)
    await tick(services)  # the safety net makes nothing for an ended schedule
    assert [v.status for v in await visits_of(services.db, household.id)] == ["logged"]
