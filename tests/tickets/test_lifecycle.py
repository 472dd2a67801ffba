"""Every allowed and every forbidden status change, and two people changing a ticket at once."""

from __future__ import annotations

import asyncio
from itertools import product

import pytest
from sqlalchemy import text, update

from storage.db import Database
from storage.ticket_models import Ticket
from storage.tickets import (STATUS_NAMES, TRANSITIONS, Actor, Conflict, IllegalTransition, TicketError,
                             transition)
from storage.tickets.lifecycle import STATUSES
from tests.tickets.conftest import events_of, file_ticket

STAFF = Actor("staff", None, "王主任")
PAIRS = list(product(STATUSES, STATUSES))
ALLOWED = [(a, b) for a, b in PAIRS if b in TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a, b in PAIRS if b not in TRANSITIONS[a]]


def test_the_table_is_the_documented_loop():
    assert set(STATUSES) == set(STATUS_NAMES)
    loop = ["received", "triaged", "assigned", "resolved", "feedback", "closed"]
    assert all(b in TRANSITIONS[a] for a, b in zip(loop, loop[1:]))
    assert TRANSITIONS["closed"] == frozenset()
    assert len(ALLOWED) == 18 and len(FORBIDDEN) == 46


async def put_in(db, ticket_id: int, status: str) -> int:
    """Place a ticket in ``status`` directly (as if it got there); returns its version."""
    values = {"status": status}
    if status in ("resolved", "feedback"):
        values["feedback_requested_at"] = values["resolved_at"] = Ticket.created_at
    async with db.sessions.begin() as session:
        await session.execute(update(Ticket).where(Ticket.id == ticket_id).values(**values))
        return (await session.get(Ticket, ticket_id)).version


@pytest.mark.parametrize("current, target", ALLOWED, ids=[f"{a}->{b}" for a, b in ALLOWED])
async def test_allowed_transition_changes_status_and_is_logged(db, world, settings, clock, current, target):
    ticket = await file_ticket(db, world, settings, clock())
    version = await put_in(db, ticket.id, current)
    before = len(await events_of(db, ticket.id))
    async with db.sessions.begin() as session:
        changed = await transition(session, ticket_id=ticket.id, to=target, actor=STAFF, now=clock.advance(hours=1),
                                   settings=settings, note="电话联系过居民", expected_version=version)
    assert changed.status == target and changed.version == version + 1
    event = (await events_of(db, ticket.id))[before]
    assert (event.from_status, event.to_status, event.actor_kind, event.actor_name, event.note) == \
        (current, target, "staff", "王主任", "电话联系过居民")
    assert changed.first_response_at == clock()  # a staff action is the first response


@pytest.mark.parametrize("current", STATUSES)
async def test_every_forbidden_transition_is_refused_clearly_and_changes_nothing(db, world, settings, clock, current):
    ticket = await file_ticket(db, world, settings, clock())
    version = await put_in(db, ticket.id, current)
    before = len(await events_of(db, ticket.id))
    targets = [target for origin, target in FORBIDDEN if origin == current]
    assert targets
    for target in targets:
        with pytest.raises(IllegalTransition) as refused:
            async with db.sessions.begin() as session:
                await transition(session, ticket_id=ticket.id, to=target, actor=STAFF, now=clock(),
                                 settings=settings, note="试试")
        assert refused.value.message == \
            f"工单{ticket.number}当前为“{STATUS_NAMES[current]}”，不能改为“{STATUS_NAMES[target]}”。"
    async with db.sessions() as session:
        unchanged = await session.get(Ticket, ticket.id)
        assert (unchanged.status, unchanged.version) == (current, version)
    assert len(await events_of(db, ticket.id)) == before


async def test_closing_an_unworked_ticket_needs_a_reason(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    await put_in(db, ticket.id, "received")
    with pytest.raises(TicketError, match="说明原因"):
        async with db.sessions.begin() as session:
            await transition(session, ticket_id=ticket.id, to="closed", actor=STAFF, now=clock(), settings=settings)


async def test_a_stale_expected_version_is_a_conflict(db, world, settings, clock):
    ticket = await file_ticket(db, world, settings, clock())
    with pytest.raises(Conflict, match="刚刚已被其他人修改"):
        async with db.sessions.begin() as session:
            await transition(session, ticket_id=ticket.id, to="resolved", actor=STAFF, now=clock(),
                             settings=settings, expected_version=ticket.version - 1)


async def test_an_unknown_ticket_is_a_clear_error(db, world, settings, clock):
    with pytest.raises(TicketError, match="找不到这个工单"):
        async with db.sessions.begin() as session:
            await transition(session, ticket_id=999, to="resolved", actor=STAFF, now=clock(), settings=settings)


# ---- two staff members at once ---------------------------------------------------------------

async def _act(database: Database, ticket_id: int, to: str, actor: Actor, settings, now, version):
    async with database.sessions.begin() as session:
        return await transition(session, ticket_id=ticket_id, to=to, actor=actor, now=now, settings=settings,
                                expected_version=version)


async def _race(databases, ticket, settings, now):
    """Two staff who both saw the ticket at the same version act at once."""
    first, second = Actor("staff", None, "王主任"), Actor("staff", None, "周干事")
    return await asyncio.gather(_act(databases[0], ticket.id, "resolved", first, settings, now, ticket.version),
                                _act(databases[1], ticket.id, "supervised", second, settings, now, ticket.version),
                                return_exceptions=True)


def _one_wins(results) -> Ticket:
    winners = [r for r in results if isinstance(r, Ticket)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert isinstance(losers[0], Conflict) and "刚刚已被其他人修改" in losers[0].message
    return winners[0]


@pytest.mark.backend_specific
async def test_two_staff_at_once_on_sqlite_one_wins(db, db_url, world, settings, clock):
    other = Database(db_url)  # a second connection, as a second server process would have
    try:
        ticket = await file_ticket(db, world, settings, clock())
        winner = _one_wins(await _race([db, other], ticket, settings, clock()))
    finally:
        await other.dispose()
    changes = [e.to_status for e in await events_of(db, ticket.id) if e.to_status in ("resolved", "supervised")]
    assert changes == [winner.status]  # the loser left no trace


@pytest.mark.backend_specific
async def test_two_staff_at_once_on_postgres_one_wins(pg_db, settings, clock):
    from tests.tickets.conftest import build_world

    world = await build_world(pg_db)
    ticket = await file_ticket(pg_db, world, settings, clock())
    _one_wins(await _race([pg_db, pg_db], ticket, settings, clock()))


@pytest.mark.backend_specific
async def test_the_guarded_update_makes_the_later_writer_lose_on_postgres(pg_db, settings, clock):
    """Without expected_version both read version N; the second UPDATE … WHERE version = N waits
    for the first to commit, then matches no row: Conflict, not a silent overwrite."""
    from tests.tickets.conftest import build_world

    world = await build_world(pg_db)
    ticket = await file_ticket(pg_db, world, settings, clock())
    async with pg_db.sessions() as first, pg_db.sessions() as second:
        await first.begin()
        await second.begin()
        await transition(first, ticket_id=ticket.id, to="resolved", actor=STAFF, now=clock(), settings=settings)
        late = asyncio.create_task(transition(second, ticket_id=ticket.id, to="supervised",
                                              actor=Actor("staff", None, "周干事"), now=clock(), settings=settings))
        await _until_blocked_on_a_lock(pg_db, late)
        await first.commit()
        with pytest.raises(Conflict):
            await late
        await second.rollback()
    async with pg_db.sessions() as session:
        assert (await session.get(Ticket, ticket.id)).status == "resolved"


async def _until_blocked_on_a_lock(database: Database, task: asyncio.Task) -> None:
    for _ in range(2000):
        async with database.engine.connect() as connection:
            waiting = (await connection.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))).scalar()
        if waiting or task.done():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the second writer never reached the row lock")


async def test_a_resolved_report_earns_its_reporter_points_once(db, world, settings, clock):
    from storage.points import ledger

    ticket = await file_ticket(db, world, settings, clock())
    for _ in range(3):  # resolved again after each 重办: still one award
        version = await put_in(db, ticket.id, "assigned")
        async with db.sessions.begin() as session:
            await transition(session, ticket_id=ticket.id, to="resolved", actor=STAFF, now=clock.advance(hours=1),
                             settings=settings, note="已修好", expected_version=version)
    async with db.sessions() as session:
        balance = await ledger.balance(session, world["reporter"].id)
        lines, _ = await ledger.history(session, world["reporter"].id, limit=10)
    assert balance.balance == settings.points.per_verified_report
    assert [line.entry.source_key for line in lines] == [f"ticket:{ticket.id}:verified"]
