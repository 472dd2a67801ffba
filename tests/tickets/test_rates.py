"""The three rates from a hand-built event log, and `linli report` printing them."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone
from pathlib import Path

import tomli_w
from click.testing import CliRunner

from bot.cli import main
from bot.texts import notices
from nlp.timephrase import SHANGHAI
from storage.db import Database
from storage.ticket_models import Ticket, TicketEvent
from storage.tickets import rates
from tests.tickets.conftest import build_world

AS_OF = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
NOVEMBER = (datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2026, 12, 1, tzinfo=SHANGHAI))


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(timezone.utc)


def ev(when: datetime, actor: str, action: str, to: str | None = None, **data) -> dict:
    return {"at": when, "actor_kind": actor, "action": action, "to_status": to, "data": data or None}


async def build_log(db: Database) -> int:
    """Six tickets; four received in November (see the expectations in the tests)."""
    world = await build_world(db)
    g1, g2 = world.grids["第一网格"], world.grids["第二网格"]
    tickets = [
        # T1: answered and resolved in time, 满意
        ("20261102-0001", g1, "lighting", at(11, 2), at(11, 3), at(11, 11, 18), [
            ev(at(11, 2, 10, 1), "system", "assign", "assigned"),
            ev(at(11, 2, 12), "member", "note"),
            ev(at(11, 5), "member", "transition", "resolved"),
            ev(at(11, 6), "resident", "rate", rating="satisfied")]),
        # T2: answered late, resolved late, 不满意 then 重办 and 基本满意; the ticket now carries the
        # later deadline of the 重办, the rates keep the one set at creation
        ("20261103-0001", g1, "lighting", at(11, 3), at(11, 4), at(11, 12, 18), [
            ev(at(11, 5), "grid_worker", "note"),
            ev(at(11, 20), "grid_worker", "transition", "resolved"),
            ev(at(11, 21), "resident", "rate", rating="unsatisfied"),
            ev(at(11, 21), "resident", "transition", "reopened"),
            ev(at(11, 24), "grid_worker", "transition", "resolved"),
            ev(at(11, 25), "resident", "rate", rating="basic")]),
        # T3: nobody answered and the respond deadline passed; the resolve deadline has not
        ("20261128-0001", g2, "noise", at(11, 28), at(11, 29), at(12, 8, 18), []),
        # T6: answered and resolved in time by staff, never rated
        ("20261110-0001", g2, "lighting", at(11, 10), at(11, 11), at(11, 19, 18), [
            ev(at(11, 10, 11), "staff", "assign", "assigned"),
            ev(at(11, 12), "staff", "transition", "resolved"),
            ev(at(11, 16), "system", "no_feedback")]),
        # outside the period: the last minutes of October and the first of December (Shanghai time)
        ("20261031-0001", g1, "lighting", at(10, 31, 23, 59), at(11, 1, 23, 59), at(11, 10, 18), []),
        ("20261201-0001", g1, "lighting", at(12, 1, 0, 30), at(12, 2, 0, 30), at(12, 10, 18), []),
    ]
    async with db.sessions.begin() as session:
        for number, grid, category, created, respond, resolve, events in tickets:
            ticket = Ticket(community_id=world.community_id, number=number, kind="repair", category=category,
                            grade="blue", status="assigned", grid_id=grid, description="手工构造",
                            respond_due_at=respond, resolve_due_at=resolve, created_at=created, updated_at=created)
            if number == "20261103-0001":
                ticket.resolve_due_at = at(12, 20, 18)
            session.add(ticket)
            await session.flush()
            log = [ev(created, "resident", "created", "received", respond_due_at=respond.isoformat(),
                      resolve_due_at=resolve.isoformat()), *events]
            session.add_all(TicketEvent(community_id=world.community_id, ticket_id=ticket.id, **e) for e in log)
    return world.community_id


async def test_the_three_rates_by_grid_and_category(db):
    community_id = await build_log(db)
    async with db.sessions() as session:
        report = await rates.compute(session, community_id=community_id, start=NOVEMBER[0], end=NOVEMBER[1],
                                     as_of=AS_OF)
    total = report.total
    assert total.tickets == 4
    assert (total.responded_in_time, total.response_measured) == (2, 4)
    assert (total.resolved_in_time, total.resolution_measured) == (2, 3)
    assert (total.satisfied, total.rated) == (2, 3)
    assert (total.response_rate, total.resolution_rate) == (0.5, 2 / 3)

    first, second = report.by_grid["第一网格"], report.by_grid["第二网格"]
    assert (first.tickets, first.responded_in_time, first.resolved_in_time, first.satisfied, first.rated) == \
        (2, 1, 1, 2, 3)
    assert (second.tickets, second.response_measured, second.resolution_measured, second.rated) == (2, 2, 1, 0)
    assert second.satisfaction_rate is None
    assert list(report.by_category) == ["照明", "噪音扰民"]  # most tickets first
    assert report.by_category["噪音扰民"].resolution_rate is None


async def test_later_the_same_log_measures_more(db):
    community_id = await build_log(db)
    async with db.sessions() as session:
        later = await rates.compute(session, community_id=community_id, start=NOVEMBER[0], end=NOVEMBER[1],
                                    as_of=datetime(2026, 12, 9, tzinfo=SHANGHAI))
    assert (later.total.resolved_in_time, later.total.resolution_measured) == (2, 4)  # T3 is now overdue


def test_linli_report_prints_the_rates(db_url, tmp_path: Path):
    async def prepare() -> None:
        database = Database(db_url)
        try:
            await build_log(database)
        finally:
            await database.dispose()

    asyncio.run(prepare())
    config = tmp_path / "linli.toml"
    config.write_text(tomli_w.dumps({
        "database": {"url": db_url},
        "communities": [{"slug": "test", "name": "测试社区"}],
        "accounts": [{"name": "test", "community": "test", "appid": "wx1", "token": "tok", "encryption": "plain"}],
        "tickets": {"holidays": [date(2027, 1, 1)]},
    }), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--config", str(config), "--from", "2026-11-01", "--to",
                                       "2026-11-30", "--as-of", "2026-11-30 12:00"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # 2027's holidays are in the config: no calendar warning
    lines = result.stdout.splitlines()
    assert lines[0] == "测试社区 工单三率 2026-11-01 至 2026-11-30（统计于 2026-11-30 12:00）"
    assert lines[2:7] == [
        "按网格",
        "网格      工单数       响应率        解决率       满意率",
        "第一网格       2  50.0% (1/2)   50.0% (1/2)  66.7% (2/3)",
        "第二网格       2  50.0% (1/2)  100.0% (1/1)            —",
        "合计           4  50.0% (2/4)   66.7% (2/3)  66.7% (2/3)",
    ]
    assert lines[8:12] == [
        "按类别",
        "类别      工单数       响应率       解决率       满意率",
        "照明           3  66.7% (2/3)  66.7% (2/3)  66.7% (2/3)",
        "噪音扰民       1   0.0% (0/1)            —            —",
    ]
    assert lines[-1].startswith("响应率：")


def test_linli_report_warns_when_the_holiday_calendar_does_not_know_the_year(db_url, tmp_path: Path):
    config = tmp_path / "linli.toml"
    config.write_text(tomli_w.dumps({
        "database": {"url": db_url},
        "communities": [{"slug": "test", "name": "测试社区"}],
        "accounts": [{"name": "test", "community": "test", "appid": "wx1", "token": "tok", "encryption": "plain"}],
    }), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", "--config", str(config), "--from", "2099-11-01", "--to",
                                       "2099-11-30", "--as-of", "2099-11-30 12:00"])
    assert result.exit_code == 0, result.output
    assert result.stderr == notices.REPORT_CALENDAR_GAP.format(year=2099) + "\n"
    assert result.stdout.splitlines()[0].startswith("测试社区 工单三率 2099-11-01 至 2099-11-30")


def test_linli_report_refuses_a_backwards_period(db_url, tmp_path: Path):
    result = CliRunner().invoke(main, ["report", "--from", "2026-11-30", "--to", "2026-11-01"])
    assert result.exit_code != 0 and "--to is before --from" in result.output
