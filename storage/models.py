"""The tables. Every row belongs to a community, so one deployment serves many communities.

State lives here rather than in process memory (dedup keys, dialog state, the access token, the
outbox) so any number of server processes can share one database and a restart loses nothing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Float,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator):
    """Always hand out aware UTC datetimes; SQLite would otherwise return naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}


def _community_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("communities.id", ondelete="CASCADE"), index=True)


class Community(Base):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Grid(Base):
    """A sub-area of a community with its grid worker (网格员)."""

    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    name: Mapped[str] = mapped_column(String(100))


class Building(Base):
    """A building (楼栋), named the way residents say it: "3栋", "东区5栋"."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(50))


class Resident(Base):
    """Anyone who has messaged the account; roles say who is also a member household etc."""

    __tablename__ = "residents"
    __table_args__ = (UniqueConstraint("community_id", "openid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    openid: Mapped[str] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(20))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"))
    unit: Mapped[int | None] = mapped_column(Integer)
    room: Mapped[str | None] = mapped_column(String(20))
    roles: Mapped[list[str]] = mapped_column(default=list)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    qr_scene: Mapped[str | None] = mapped_column(String(64))
    subscribed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    last_inbound_at: Mapped[datetime | None]
    # When they last sent a photo or a location: a report that follows soon takes them along
    # (handlers/intake.py), and without this it would read the message log on every report.
    last_media_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Whose turn it is: the server process handling one of this resident's messages, until when.
    # One resident's messages are handled one at a time across processes (storage.turns).
    busy_worker: Mapped[str | None] = mapped_column(String(96))
    busy_until: Mapped[datetime | None]


class ProcessedMessage(Base):
    """One row per accepted WeChat delivery key; the unique key makes retries harmless.

    status: running (a worker is on it) → done. delivery says how the reply went out
    (passive, outbox, none) so a retry answers the same way as the first attempt.
    """

    __tablename__ = "processed_messages"
    __table_args__ = (UniqueConstraint("account", "dedup_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    account: Mapped[str] = mapped_column(String(32))
    dedup_key: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="running")
    delivery: Mapped[str | None] = mapped_column(String(16))
    reply: Mapped[dict[str, Any] | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    worker: Mapped[str | None] = mapped_column(String(96))  # the server process running it (ServerWorker.id)


class ServerWorker(Base):
    """A running server process and when it last said it was alive.

    A WeChat retry that finds its message still 'running' in a process that stopped beating
    (killed mid-message) takes the message over at once, instead of waiting out the lease —
    WeChat gives up after its third try, about 15 seconds after the first.
    """

    __tablename__ = "server_workers"

    id: Mapped[str] = mapped_column(String(96), primary_key=True)  # host:pid:random
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Conversation(Base):
    """Dialog state of one resident: the current step, collected slots, and hand-off flag."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    state: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    expires_at: Mapped[datetime | None]
    handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    handoff_at: Mapped[datetime | None]
    # The hand-off's last sign of life (the resident wrote, staff took or answered the thread):
    # the bot takes the resident back only after a silence from here (handlers/handoff.py).
    handoff_active_at: Mapped[datetime | None]
    misunderstood: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MessageLog(Base):
    """Every inbound and outbound message, so a thread can be read later."""

    __tablename__ = "message_log"
    __table_args__ = (Index("ix_message_log_thread", "community_id", "openid", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    openid: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    msg_type: Mapped[str] = mapped_column(String(32))
    content: Mapped[str | None] = mapped_column(Text)
    media_id: Mapped[str | None] = mapped_column(String(128))
    media_url: Mapped[str | None] = mapped_column(String(512))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any] | None]
    wechat_msg_id: Mapped[str | None] = mapped_column(String(64))
    delivery: Mapped[str | None] = mapped_column(String(24))  # passive | customer_service | template
    outbox_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxMessage(Base):
    """An outbound WeChat message: written first, sent later with retries and backoff.

    status: pending → sending (claimed, lease until claimed_until) → sent | failed | cancelled.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_recipient", "account", "openid", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    account: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # text | image | template | subscribe
    notice_kind: Mapped[str] = mapped_column(String(32), default="reply")
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class AccessToken(Base):
    """The one shared access_token per AppID; refreshing_until is a cross-process refresh lease."""

    __tablename__ = "access_tokens"

    appid: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str | None] = mapped_column(String(1024))
    expires_at: Mapped[datetime | None]
    refreshing_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FaqEntry(Base):
    """A staff-kept question and answer for the consult intent."""

    __tablename__ = "faq_entries"
    __table_args__ = (UniqueConstraint("community_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    question: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Each domain keeps its tables in its own module; importing them here registers them on
# Base.metadata (for Alembic and for code that imports only storage.models).
from storage import member_models, points_models, staff_models, ticket_models  # noqa: E402,F401
