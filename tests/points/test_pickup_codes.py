"""A pickup code names one order waiting for pickup: the database guarantees it (a partial
unique index on placed orders), and a redemption that draws a taken code draws again — on SQLite
and on PostgreSQL, where two concurrent redemptions can draw the same code."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage.points import mall
from storage.points_models import MallOrder
from tests.points.test_concurrency import NOW, _at_once, _redeem, _setup, database, database_url  # noqa: F401


async def _item(db, community_id: int, stock: int = 20):
    async with db.sessions.begin() as session:
        return await mall.add_item(session, community_id=community_id, name="洗衣液", cost=10, stock=stock,
                                   actor="王主任", now=NOW)


def _order(community_id, resident_id, item_id, key, code, status=mall.PLACED) -> MallOrder:
    return MallOrder(community_id=community_id, resident_id=resident_id, item_id=item_id, cost=10, pickup_code=code,
                     status=status, source_key=key, created_at=NOW)


async def test_two_waiting_orders_cannot_share_a_code_but_closed_ones_may(database):
    community_id, (a, b) = await _setup(database, 2, 100)
    item = await _item(database, community_id)
    async with database.sessions.begin() as session:
        session.add_all([_order(community_id, a, item.id, "k1", "123456", mall.PICKED_UP),
                         _order(community_id, b, item.id, "k2", "123456")])
    with pytest.raises(IntegrityError):
        async with database.sessions.begin() as session:
            session.add(_order(community_id, a, item.id, "k3", "123456"))


async def test_a_taken_code_is_drawn_again(database, monkeypatch):
    community_id, (a, b) = await _setup(database, 2, 100)
    item = await _item(database, community_id)
    draws = iter(["555555", "555555", "666666"])
    monkeypatch.setattr(mall, "_pickup_code", lambda: next(draws))
    first = await _redeem(database, community_id, a, item.id, "m:1")()
    second = await _redeem(database, community_id, b, item.id, "m:2")()
    assert (first.pickup_code, second.pickup_code) == ("555555", "666666")
    async with database.sessions() as session:
        assert sorted(await session.scalars(select(MallOrder.pickup_code))) == ["555555", "666666"]


async def test_concurrent_redemptions_drawing_the_same_codes_all_get_their_own(database, monkeypatch):
    """Every code is drawn twice in a row, so concurrent redemptions keep clashing; each retries."""
    community_id, people = await _setup(database, 10, 100)
    item = await _item(database, community_id)
    codes = itertools.chain.from_iterable((f"{n}", f"{n}") for n in itertools.count(200000))
    monkeypatch.setattr(mall, "_pickup_code", lambda: next(codes))
    results = await _at_once(*(_redeem(database, community_id, rid, item.id, f"m:{rid}") for rid in people))
    assert all(isinstance(r, MallOrder) for r in results)
    async with database.sessions() as session:
        placed = list(await session.scalars(select(MallOrder.pickup_code).where(MallOrder.status == mall.PLACED)))
    assert len(placed) == 10 and len(set(placed)) == 10
