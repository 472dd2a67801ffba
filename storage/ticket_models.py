"""Ticket tables (工单): the ticket, its reporters, attachments and the event log (audit trail).

Also the two links the routing needs: which buildings a member household (党员中心户) looks
after, and which grids a grid worker (网格员) works; and the per-day counter behind ticket numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, _community_fk, utcnow

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")


def _ticket_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)


def _resident_fk(**kw: Any) -> Mapped[int]:
    return mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), **kw)


class Ticket(Base):
    """One resident request and where it stands; ``version`` makes concurrent changes conflict.

    Due times are computed at creation (and again on 重办) from the SLA rule named in ``sla_rule``.
    """

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        UniqueConstraint("community_id", "source_key", name="uq_tickets_source_key"),
        Index("ix_tickets_open", "community_id", "status", "category"),
        Index("ix_tickets_created", "community_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    number: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(16))  # complaint | repair | suggestion
    category: Mapped[str | None] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(8))  # red | yellow | blue
    status: Mapped[str] = mapped_column(String(16), default="received")
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    unit: Mapped[str | None] = mapped_column(String(10))
    room: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    outdoor: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(20))
    phone_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    reporter_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    assignee_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    assignee_team: Mapped[str | None] = mapped_column(String(32))
    sla_rule: Mapped[str | None] = mapped_column(String(32))
    respond_due_at: Mapped[datetime]
    resolve_due_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    supervised_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    feedback_requested_at: Mapped[datetime | None]
    rating: Mapped[str | None] = mapped_column(String(16))  # satisfied | basic | unsatisfied | none
    closed_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    source_key: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    reporters: Mapped[list["TicketReporter"]] = relationship(
        back_populates="ticket", order_by="TicketReporter.id", cascade="all, delete-orphan", lazy="selectin")
    attachments: Mapped[list["TicketAttachment"]] = relationship(
        order_by="TicketAttachment.id", cascade="all, delete-orphan", lazy="selectin")

    __mapper_args__ = {"version_id_col": version}


class TicketReporter(Base):
    """A resident who reported or joined the ticket; each gets every update and may rate once per
    resolution (the rating is cleared when the ticket is reopened)."""

    __tablename__ = "ticket_reporters"
    __table_args__ = (UniqueConstraint("ticket_id", "resident_id"),
                      Index("ix_ticket_reporters_resident", "resident_id", "ticket_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = _resident_fk()
    original: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    rating: Mapped[str | None] = mapped_column(String(16))
    rated_at: Mapped[datetime | None]

    ticket: Mapped[Ticket] = relationship(back_populates="reporters")


class TicketAttachment(Base):
    """A photo (WeChat media id / URL) or a location attached to a ticket."""

    __tablename__ = "ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    ticket_id: Mapped[int] = _ticket_fk()
    kind: Mapped[str] = mapped_column(String(16))  # image | location
    media_id: Mapped[str | None] = mapped_column(String(128))
    url: Mapped[str | None] = mapped_column(String(512))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(200))
    added_by_kind: Mapped[str] = mapped_column(String(16))
    added_by_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketEvent(Base):
    """One change to a ticket — who, when, from → to, note — never updated or deleted.

    action: created | transition | assign | note | attach | join | rate | no_feedback.
    ``data`` keeps what the rates need later (due times at creation and on 重办, the rating …).
    """

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),
                      Index("ix_ticket_events_community_at", "community_id", "at"))

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))  # resident | member | grid_worker | staff | system
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str | None] = mapped_column(String(50))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]


class TicketCounter(Base):
    """The last ticket number handed out per community and Asia/Shanghai day ("20261123")."""

    __tablename__ = "ticket_counters"

    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class MemberHouseholdBuilding(Base):
    """A building a member household looks after, besides the one it lives in."""

    __tablename__ = "member_household_buildings"
    __table_args__ = (UniqueConstraint("resident_id", "building_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    resident_id: Mapped[int] = _resident_fk()
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)


class GridWorker(Base):
    """A grid a grid worker works, besides the one it lives in."""

    __tablename__ = "grid_workers"
    __table_args__ = (UniqueConstraint("resident_id", "grid_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    resident_id: Mapped[int] = _resident_fk()
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), index=True)
