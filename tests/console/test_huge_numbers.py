"""Numbers too big for an INTEGER column (PostgreSQL's is 32 bits; SQLite's 64) in URLs, query
strings and forms are "not found" or refused like any other wrong number, never a server error."""

from __future__ import annotations

import pytest

from tests.console.conftest import logged_in, make_ticket

HUGE = "99999999999"  # > 2**31 - 1


@pytest.mark.parametrize("path", [
    f"/console/tickets/{HUGE}", f"/console/threads/{HUGE}", f"/console/manage/residents/{HUGE}",
    f"/console/manage/staff/{HUGE}", f"/console/manage/care/{HUGE}", f"/console/manage/activities/{HUGE}",
])
async def test_a_huge_id_in_the_path_is_not_found(console, place, path):
    await logged_in(console, "admin")
    response = await console.get(path)
    assert response.status == 404, (response.status, (await response.text())[:500])


async def test_huge_numbers_in_a_query_string_are_ignored(console, place, services):
    ticket = await make_ticket(services, place)
    await logged_in(console, "admin")
    for query in (f"who={HUGE}", f"before={HUGE}"):
        response = await console.get(f"/console/tickets/{ticket.id}?{query}")
        assert response.status == 200, (query, response.status, (await response.text())[:500])
    for path in (f"/console/manage/faq?edit={HUGE}", f"/console/manage/canned?edit={HUGE}",
                 f"/console/tickets?grid={HUGE}", f"/console/tickets?assignee=r{HUGE}"):
        response = await console.get(path)
        assert response.status == 200, (path, response.status, (await response.text())[:500])


async def test_a_huge_number_in_a_form_is_refused_as_a_wrong_one(console, place, db):
    await logged_in(console, "admin")
    response = await console.post("/console/manage/mall", {"name": "洗衣液", "cost": "20", "stock": HUGE})
    assert response.status == 400, (response.status, (await response.text())[:500])
    response = await console.post(f"/console/tickets/{HUGE}/assign", {"assignee": f"r{HUGE}"})
    assert response.status == 404
