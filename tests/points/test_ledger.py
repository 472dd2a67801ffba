"""The ledger on its own: awards apply once per source key, balances follow the ledger, staff
adjustments are audited and cannot overdraw, rules come from the config."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from bot.config import PointsSettings
from storage import communities
from storage.models import Resident
from storage.points import ledger
from storage.points_models import PointsAccount, PointsAudit, PointsEntry

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
async def people(db) -> tuple[int, int, int]:
    """(community id, resident a, resident b)."""
    async with db.sessions.begin() as session:
        community_id = (await communities.ensure(session, [("test", "测试社区")]))["test"]
        a = Resident(community_id=community_id, openid="o_a", roles=[], subscribed=True)
        b = Resident(community_id=community_id, openid="o_b", roles=[], subscribed=True)
        session.add_all([a, b])
        await session.flush()
        return community_id, a.id, b.id


async def _award(db, community_id, resident_id, points, key, reason="参加活动"):
    async with db.sessions.begin() as session:
        return await ledger.award(session, community_id=community_id, resident_id=resident_id, points=points,
                                  reason=reason, source_key=key, now=NOW)


async def _balance(db, resident_id) -> ledger.Balance:
    async with db.sessions() as session:
        return await ledger.balance(session, resident_id)


async def test_an_award_applies_once_however_often_it_is_repeated(db, people):
    community_id, a, _ = people
    first = await _award(db, community_id, a, 20, "activity:1:attend:1")
    again = [await _award(db, community_id, a, 20, "activity:1:attend:1") for _ in range(3)]
    assert first is not None and again == [None, None, None]
    assert await _balance(db, a) == ledger.Balance(20, 20)


async def test_source_keys_are_per_community(db, people):
    community_id, a, _ = people
    async with db.sessions.begin() as session:
        other = (await communities.ensure(session, [("other", "另一个社区")]))["other"]
        resident = Resident(community_id=other, openid="o_a", roles=[], subscribed=True)
        session.add(resident)
        await session.flush()
        elsewhere = resident.id
    assert await _award(db, community_id, a, 5, "same-key") is not None
    assert await _award(db, other, elsewhere, 5, "same-key") is not None


async def test_debit_never_overdraws_and_changes_nothing_when_refused(db, people):
    community_id, a, _ = people
    await _award(db, community_id, a, 10, "k1")
    async with db.sessions.begin() as session:
        with pytest.raises(ledger.InsufficientPoints):
            await ledger.debit(session, community_id=community_id, resident_id=a, amount=11, kind=ledger.REDEMPTION,
                               reason="兑换：大米", source_key="order:x", now=NOW)
    async with db.sessions.begin() as session:
        await ledger.debit(session, community_id=community_id, resident_id=a, amount=10, kind=ledger.REDEMPTION,
                           reason="兑换：洗衣液", source_key="order:y", now=NOW)
    assert await _balance(db, a) == ledger.Balance(0, 10)
    async with db.sessions() as session:
        assert list(await session.scalars(select(PointsEntry.source_key).order_by(PointsEntry.id))) == ["k1", "order:y"]


async def test_staff_adjustments_need_a_reason_and_are_audited(db, people):
    community_id, a, _ = people
    await _award(db, community_id, a, 10, "k1")
    async with db.sessions.begin() as session:
        with pytest.raises(ValueError):
            await ledger.adjust(session, community_id=community_id, resident_id=a, delta=5, reason=" ", actor="王主任",
                                now=NOW)
        entry_id = await ledger.adjust(session, community_id=community_id, resident_id=a, delta=-4,
                                       reason="重复登记，扣回", actor="王主任", now=NOW)
        with pytest.raises(ledger.InsufficientPoints):
            await ledger.adjust(session, community_id=community_id, resident_id=a, delta=-7, reason="再扣",
                                actor="王主任", now=NOW)
    async with db.sessions() as session:
        audit = (await session.scalars(select(PointsAudit))).all()
        entry = await session.get(PointsEntry, entry_id)
    assert [(r.actor, r.action, r.reason, r.entry_id, r.detail["delta"]) for r in audit] == [
        ("王主任", "adjust", "重复登记，扣回", entry_id, -4)]
    assert (entry.delta, entry.kind, entry.created_by, entry.reason) == (-4, "adjustment", "王主任", "重复登记，扣回")
    assert await _balance(db, a) == ledger.Balance(6, 6)  # a correction changes earnings too


async def test_rules_come_from_the_config(db, people):
    community_id, a, _ = people
    rules = PointsSettings(per_verified_report=7, per_mediation=25)
    async with db.sessions.begin() as session:
        await ledger.award_by_rule(session, rules, rule="verified_report", community_id=community_id, resident_id=a,
                                   reason="反映问题经核实", source_key="ticket:9:verified", now=NOW)
        await ledger.award_by_rule(session, rules, rule="mediation", community_id=community_id, resident_id=a,
                                   reason="参与调解", source_key="ticket:9:mediation", now=NOW)
        await ledger.award_by_rule(session, rules, rule="verified_report", community_id=community_id, resident_id=a,
                                   reason="反映问题经核实", source_key="ticket:9:verified", now=NOW)
        with pytest.raises(ValueError):
            await ledger.award_by_rule(session, rules, rule="jaywalking", community_id=community_id, resident_id=a,
                                       reason="?", source_key="x", now=NOW)
    assert (await _balance(db, a)).balance == 32


async def test_history_pages_carry_the_running_balance(db, people):
    community_id, a, _ = people
    for n in range(5):
        await _award(db, community_id, a, n + 1, f"k{n}", reason=f"第{n}次")
    async with db.sessions() as session:
        page, more = await ledger.history(session, a, limit=3)
        rest, more_after = await ledger.history(session, a, limit=3, before_id=page[-1].entry.id)
    assert [(line.entry.reason, line.balance_after) for line in page] == [("第4次", 15), ("第3次", 10), ("第2次", 6)]
    assert [(line.entry.reason, line.balance_after) for line in rest] == [("第1次", 3), ("第0次", 1)]
    assert (more, more_after) == (True, False)


async def test_cached_balances_agree_with_the_ledger(db, people):
    community_id, a, b = people
    await _award(db, community_id, a, 10, "k1")
    await _award(db, community_id, b, 3, "k2")
    async with db.sessions() as session:
        assert await ledger.inconsistencies(session, community_id) == []
    async with db.sessions.begin() as session:  # a bug that moved a cache without a ledger line is found
        await session.execute(update(PointsAccount).where(PointsAccount.resident_id == b).values(balance=4))
    async with db.sessions() as session:
        assert await ledger.inconsistencies(session, community_id) == [(b, ledger.Balance(4, 3), ledger.Balance(3, 3))]


async def test_balance_of_someone_without_points(db, people):
    assert await _balance(db, people[2]) == ledger.Balance(0, 0)
