"""Points (积分) and volunteering tables: ledger, mall, orders, activities, sign-ups, skills.

The ledger is the truth and is only ever appended to (a line's running balance is derived when
shown, see ledger.history). ``points_accounts`` caches each resident's balance and lifetime
earnings so that a redemption can check and spend in one conditional UPDATE; the cache changes in
the same transaction as the ledger, and CHECK constraints keep balances and stock from going
below zero even if code got it wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, _community_fk, utcnow


class PointsAccount(Base):
    """One resident's cached balance and lifetime earnings, and their leaderboard preference."""

    __tablename__ = "points_accounts"
    __table_args__ = (
        UniqueConstraint("resident_id"),
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        Index("ix_points_accounts_rank", "community_id", "earned"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    balance: Mapped[int] = mapped_column(Integer, default=0)
    earned: Mapped[int] = mapped_column(Integer, default=0)  # awards and adjustments; ranks are by this
    leaderboard_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PointsEntry(Base):
    """One ledger line. kind: award | adjustment | redemption | refund.

    source_key names what caused the entry ("activity:7:attend:12", "order:5"), so the same cause
    can never be counted twice, however often it is retried.
    """

    __tablename__ = "points_ledger"
    __table_args__ = (
        UniqueConstraint("community_id", "source_key"),
        Index("ix_points_ledger_resident", "resident_id", "id"),
        Index("ix_points_ledger_month", "community_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    delta: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))  # shown to the resident
    source_key: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str | None] = mapped_column(String(64))  # staff member, for adjustments
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PointsAudit(Base):
    """Who did what, when and why: staff adjustments, check-ins marked by staff, catalogue changes."""

    __tablename__ = "points_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(500))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("points_ledger.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class MallItem(Base):
    """Something in the points mall (积分超市); number is what residents type ("兑换 2")."""

    __tablename__ = "mall_items"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("cost > 0", name="cost_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(200), default="")
    cost: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


PLACED_ONLY = text("status = 'placed'")


class MallOrder(Base):
    """A redemption. status: placed → picked_up | cancelled (points and stock given back).

    A pickup code names one order waiting for pickup: the partial unique index guarantees it
    (mall.redeem draws again on a clash); closed orders may share old codes."""

    __tablename__ = "mall_orders"
    __table_args__ = (
        UniqueConstraint("community_id", "source_key"),
        Index("ix_mall_orders_resident", "resident_id", "status"),
        Index("ix_mall_orders_pickup", "community_id", "pickup_code"),
        Index("uq_mall_orders_placed_pickup", "community_id", "pickup_code", unique=True,
              sqlite_where=PLACED_ONLY, postgresql_where=PLACED_ONLY),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("mall_items.id", ondelete="RESTRICT"), index=True)
    cost: Mapped[int] = mapped_column(Integer)
    pickup_code: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="placed")
    source_key: Mapped[str] = mapped_column(String(128))  # the confirming message: a retry finds it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(64))


class Activity(Base):
    """A volunteer activity (志愿活动). confirmed counts taken seats, so a seat is taken by a
    conditional UPDATE (… WHERE confirmed < capacity) that concurrent sign-ups cannot overrun."""

    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        Index("ix_activities_start", "community_id", "starts_at"),
        CheckConstraint("confirmed <= capacity AND confirmed >= 0", name="seats"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    place: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    signup_deadline: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(default=list)
    checkin_code: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | cancelled
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivitySignup(Base):
    """A resident on an activity. status: confirmed | waitlisted | cancelled.

    queued_at orders the waitlist; checked_in_at is set once, when points are granted.
    """

    __tablename__ = "activity_signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "resident_id"),
        Index("ix_activity_signups_queue", "activity_id", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[datetime]
    promoted_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    checked_in_by: Mapped[str | None] = mapped_column(String(64))  # "self" or a staff member


class CheckinFailure(Base):
    """A wrong check-in code a resident sent: counted to refuse guessing (activities.check_in)."""

    __tablename__ = "checkin_failures"
    __table_args__ = (Index("ix_checkin_failures_resident", "resident_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    at: Mapped[datetime]


class ResourceEntry(Base):
    """A resident's entry on the resources list (资源清单): skills and free time, for staff to match."""

    __tablename__ = "resource_entries"
    __table_args__ = (UniqueConstraint("resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    skills: Mapped[list[str]] = mapped_column(default=list)
    availability: Mapped[list[str]] = mapped_column(default=list)
    said: Mapped[str] = mapped_column(String(500))  # the resident's own words
    search_text: Mapped[str] = mapped_column(String(1000))  # skills, times and words, for LIKE search
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
