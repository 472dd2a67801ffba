"""The points mall (积分超市): items, redemptions with a pickup code, cancellation, pickup.

A redemption takes one unit of stock and the points with two conditional UPDATEs
(``stock > 0``, ``balance >= cost``) in the caller's transaction; when the points are short the
unit is put back before anything else happens, so concurrent redemptions can neither oversell
nor overdraw, on SQLite or PostgreSQL. The order is keyed by the message that confirmed it, so a
retried confirmation finds the order instead of placing a second one. Its pickup code is drawn at
random and kept unique among orders waiting for pickup by a partial unique index: an insert that
clashes (two redemptions drawing the same code at once) is undone to a savepoint and drawn again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.texts import points as texts
from storage.points import audit, ledger
from storage.points_models import MallItem, MallOrder

PLACED, PICKED_UP, CANCELLED = "placed", "picked_up", "cancelled"
CODE_DRAWS = 8  # a clash among 900 000 codes is rare; eight in a row means something else is wrong


class OutOfStock(Exception):
    pass


class NotCancellable(Exception):
    """The order is not waiting for pickup any more (already picked up or cancelled)."""


@dataclass(frozen=True, slots=True)
class OpenOrder:
    order: MallOrder
    item_name: str


# ---- the catalogue (staff) --------------------------------------------------------------------

async def add_item(session: AsyncSession, *, community_id: int, name: str, cost: int, stock: int, actor: str,
                   now: datetime, description: str = "") -> MallItem:
    """A new item gets the next number in its community: what residents type after 兑换."""
    if cost <= 0 or stock < 0:
        raise ValueError("cost must be positive and stock not negative")
    number = (await session.scalar(select(func.coalesce(func.max(MallItem.number), 0))
                                   .where(MallItem.community_id == community_id))) + 1
    item = MallItem(community_id=community_id, number=number, name=name, description=description, cost=cost,
                    stock=stock, enabled=True, created_at=now)
    session.add(item)
    await session.flush()
    await audit.record(session, community_id=community_id, actor=actor, action="item_add", now=now,
                       item_id=item.id, name=name, cost=cost, stock=stock)
    return item


async def restock(session: AsyncSession, *, item_id: int, add: int, actor: str, now: datetime) -> int:
    """Add (or, negative, withdraw) units; never below zero. Returns the new stock."""
    stock = (await session.execute(
        update(MallItem).where(MallItem.id == item_id, MallItem.stock + add >= 0)
        .values(stock=MallItem.stock + add).returning(MallItem.stock, MallItem.community_id)
        .execution_options(synchronize_session=False))).first()
    if stock is None:
        raise OutOfStock(item_id)
    await audit.record(session, community_id=stock[1], actor=actor, action="item_restock", now=now,
                       item_id=item_id, add=add)
    return stock[0]


async def set_enabled(session: AsyncSession, *, item_id: int, enabled: bool, actor: str, now: datetime) -> None:
    item = await get_item(session, item_id)
    item.enabled = enabled
    await audit.record(session, community_id=item.community_id, actor=actor, now=now,
                       action="item_enable" if enabled else "item_disable", item_id=item_id)


async def items(session: AsyncSession, community_id: int, *, include_disabled: bool = False) -> list[MallItem]:
    query = select(MallItem).where(MallItem.community_id == community_id)
    if not include_disabled:
        query = query.where(MallItem.enabled)
    return list((await session.scalars(query.order_by(MallItem.number))).all())


async def get_item(session: AsyncSession, item_id: int) -> MallItem:
    item = await session.get(MallItem, item_id)
    if item is None:
        raise LookupError(item_id)
    return item


async def find_item(session: AsyncSession, community_id: int, *, number: int | None = None,
                    name: str | None = None) -> MallItem | None:
    """By the number shown in the list, or by name (exact first, then the one the words name)."""
    listed = await items(session, community_id)
    if number is not None:
        return next((item for item in listed if item.number == number), None)
    wanted = (name or "").strip()
    if not wanted:
        return None
    exact = [item for item in listed if item.name == wanted]
    partial = [item for item in listed if wanted in item.name or item.name in wanted]
    found = exact or partial
    return found[0] if len(found) == 1 else None


# ---- redeeming (residents) --------------------------------------------------------------------

async def redeem(session: AsyncSession, *, community_id: int, resident_id: int, item_id: int, source_key: str,
                 now: datetime) -> MallOrder:
    """Place an order; raises OutOfStock or ledger.InsufficientPoints with nothing changed."""
    existing = await session.scalar(select(MallOrder).where(MallOrder.community_id == community_id,
                                                            MallOrder.source_key == source_key))
    if existing is not None:
        return existing
    taken = (await session.execute(
        update(MallItem).where(MallItem.id == item_id, MallItem.community_id == community_id, MallItem.enabled,
                               MallItem.stock > 0)
        .values(stock=MallItem.stock - 1).returning(MallItem.cost, MallItem.name)
        .execution_options(synchronize_session=False))).first()
    if taken is None:
        raise OutOfStock(item_id)
    cost, name = taken
    try:
        await ledger.debit(session, community_id=community_id, resident_id=resident_id, amount=cost,
                           kind=ledger.REDEMPTION, reason=texts.REASON_REDEEM.format(name=name),
                           source_key=f"order:{source_key}", now=now)
    except ledger.InsufficientPoints:
        await _put_back(session, item_id)
        raise
    return await _place(session, dict(community_id=community_id, resident_id=resident_id, item_id=item_id,
                                      cost=cost, status=PLACED, source_key=source_key, created_at=now))


async def _place(session: AsyncSession, fields: dict) -> MallOrder:
    """Insert the order with a fresh pickup code, drawing again when the unique index refuses it."""
    for _ in range(CODE_DRAWS):
        order = MallOrder(pickup_code=_pickup_code(), **fields)
        try:
            async with session.begin_nested():
                session.add(order)
        except IntegrityError:
            if await _source_key_taken(session, fields["community_id"], fields["source_key"]):
                raise  # not the code: the same confirmation placed an order meanwhile
            continue
        return order
    raise RuntimeError(f"no free pickup code after {CODE_DRAWS} draws")


async def _source_key_taken(session: AsyncSession, community_id: int, source_key: str) -> bool:
    return await session.scalar(select(MallOrder.id).where(MallOrder.community_id == community_id,
                                                           MallOrder.source_key == source_key)) is not None


async def _put_back(session: AsyncSession, item_id: int) -> None:
    await session.execute(update(MallItem).where(MallItem.id == item_id).values(stock=MallItem.stock + 1)
                          .execution_options(synchronize_session=False))


def _pickup_code() -> str:
    """Six random digits; uniqueness among placed orders is the database's to guarantee."""
    return f"{secrets.randbelow(900000) + 100000}"


async def open_orders(session: AsyncSession, resident_id: int) -> list[OpenOrder]:
    """The resident's orders waiting for pickup, oldest first (the order their numbers follow)."""
    rows = await session.execute(select(MallOrder, MallItem.name).join(MallItem, MallItem.id == MallOrder.item_id)
                                 .where(MallOrder.resident_id == resident_id, MallOrder.status == PLACED)
                                 .order_by(MallOrder.id))
    return [OpenOrder(order, name) for order, name in rows.all()]


async def cancel(session: AsyncSession, *, order_id: int, now: datetime, actor: str | None = None) -> MallOrder:
    """Give the points and the unit back; only an order still waiting for pickup can be cancelled."""
    order = await _close(session, order_id, CANCELLED, now, actor)
    await _put_back(session, order.item_id)
    name = await session.scalar(select(MallItem.name).where(MallItem.id == order.item_id))
    await ledger.credit(session, community_id=order.community_id, resident_id=order.resident_id, amount=order.cost,
                        kind=ledger.REFUND, reason=texts.REASON_REFUND.format(name=name),
                        source_key=f"refund:{order.id}", now=now)
    if actor:
        await audit.record(session, community_id=order.community_id, actor=actor, action="order_cancel", now=now,
                           order_id=order.id)
    return order


async def pick_up(session: AsyncSession, *, community_id: int, pickup_code: str, actor: str,
                  now: datetime) -> MallOrder:
    """Staff hand the item over against its pickup code."""
    order_id = await session.scalar(select(MallOrder.id).where(MallOrder.community_id == community_id,
                                                               MallOrder.pickup_code == pickup_code,
                                                               MallOrder.status == PLACED))
    if order_id is None:
        raise NotCancellable(pickup_code)
    order = await _close(session, order_id, PICKED_UP, now, actor)
    await audit.record(session, community_id=community_id, actor=actor, action="order_pickup", now=now,
                       order_id=order.id)
    return order


async def _close(session: AsyncSession, order_id: int, status: str, now: datetime, actor: str | None) -> MallOrder:
    closed = (await session.execute(
        update(MallOrder).where(MallOrder.id == order_id, MallOrder.status == PLACED)
        .values(status=status, closed_at=now, closed_by=actor or "resident")
        .returning(MallOrder.id).execution_options(synchronize_session=False))).scalar()
    if closed is None:
        raise NotCancellable(order_id)
    order = await session.get(MallOrder, order_id, populate_existing=True)
    assert order is not None
    return order
