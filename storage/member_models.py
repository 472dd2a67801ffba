"""Member-household work tables: binding codes, care households, visit schedules, visits, reminders.

Who is a member household (党员中心户) or grid worker (网格员) is ``residents.roles``; the buildings
and grids they look after are the ticket domain's link tables (storage/ticket_models.py), which
routing reads too, so there is one truth for "whose building is this".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, SmallInteger, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, _community_fk, utcnow

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class BindingCode(Base):
    """A one-time 6-digit code staff hand to a person so they can take a role in chat ("绑定 123456").

    Single use: the redeeming UPDATE sets ``used_at`` only where it is still NULL.
    """

    __tablename__ = "binding_codes"
    __table_args__ = (UniqueConstraint("community_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    code: Mapped[str] = mapped_column(String(6))
    role: Mapped[str] = mapped_column(String(32))  # member_household | grid_worker
    building_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    grid_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    label: Mapped[str | None] = mapped_column(String(50))  # whom staff meant it for, e.g. "张建国"
    issued_by: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))


class BindingFailure(Base):
    """One wrong, used or expired code sent by an openid: the rate limit counts these."""

    __tablename__ = "binding_failures"
    __table_args__ = (Index("ix_binding_failures_sender", "community_id", "openid", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    openid: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class CareHousehold(Base):
    """A household member households visit (重点户): elderly living alone, 低保, 特困, 三留守."""

    __tablename__ = "care_households"
    __table_args__ = (Index("ix_care_households_member", "member_resident_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    name: Mapped[str] = mapped_column(String(50))  # how the visitor names them: "王奶奶"
    category: Mapped[str] = mapped_column(String(16))  # elderly_alone | dibao | tekun | left_behind
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    unit: Mapped[str | None] = mapped_column(String(10))
    room: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    member_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]


class VisitSchedule(Base):
    """How often a care household is visited: weekly | fortnightly | monthly | an RFC 5545 RRULE.

    Occurrences are dates counted from ``anchor`` (the first visit day); only the next one is a
    row (visits), made when the previous one is logged or missed.
    """

    __tablename__ = "visit_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    care_household_id: Mapped[int] = mapped_column(ForeignKey("care_households.id", ondelete="CASCADE"),
                                                   index=True)
    recurrence: Mapped[str] = mapped_column(String(500))
    anchor: Mapped[date] = mapped_column(Date)
    delivery_hour: Mapped[int] = mapped_column(SmallInteger)  # local hour the due-day reminder goes out
    quiet_start: Mapped[str | None] = mapped_column(String(5))  # "22:00"; None: [reminders] quiet hours
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class Visit(Base):
    """One due visit (走访) of a care household and what the visitor logged.

    status: open → logged | missed (not logged by due + escalation days: the grid worker and staff
    were told; it can still be logged late) | cancelled (the household or schedule was removed).
    A visit made when none was due is a row logged on its day.
    """

    __tablename__ = "visits"
    __table_args__ = (UniqueConstraint("schedule_id", "due_date"),
                      Index("ix_visits_open", "status", "due_at"),
                      Index("ix_visits_household", "care_household_id", "due_date"))

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    schedule_id: Mapped[int] = mapped_column(ForeignKey("visit_schedules.id", ondelete="CASCADE"))
    care_household_id: Mapped[int] = mapped_column(ForeignKey("care_households.id", ondelete="CASCADE"))
    member_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    due_date: Mapped[date] = mapped_column(Date)
    due_at: Mapped[datetime]  # when the due-day reminder goes out (delivery hour, out of quiet hours)
    status: Mapped[str] = mapped_column(String(16), default="open")
    escalated_at: Mapped[datetime | None]
    logged_at: Mapped[datetime | None]
    logged_by_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reminder(Base):
    """A message due at a time, sent once through the outbox (storage/reminders.py).

    status: pending → claimed (a scheduler holds it until ``claimed_until``) → sent | cancelled
    (recipient unsubscribed, role or household removed) | expired (past ``expires_at``) |
    skipped (nothing to say) | failed (``max_attempts`` errors). The outbox row it became has the
    idempotency key "rm:" + ``idempotency_key``.
    """

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "status", "due_at", "id"),
                      Index("ix_reminders_subject", "community_id", "subject"),
                      Index("ix_reminders_recipient", "community_id", "openid", "status"))

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # visit_due | visit_again | visit_escalation | digest …
    subject: Mapped[str] = mapped_column(String(64))  # what it is about: "visit:12", "digest:2026-11-24"
    account: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    due_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    quiet_start: Mapped[int | None] = mapped_column(SmallInteger)  # local minutes of the day; None: any time
    quiet_end: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    payload: Mapped[dict[str, Any]]  # title, content, notice_kind (rendered later for some kinds)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
