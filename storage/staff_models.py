"""Staff console tables: staff accounts and their scopes, login attempts, server-side sessions,
the staff audit log, canned replies and who took over which escalated thread.

Sessions live in the database (not in a signed cookie) so that logging out, disabling an account
or changing a role takes effect at once in every server process; the cookie carries only a
random token whose SHA-256 is stored here. Internal notes on tickets are ticket events
(storage.tickets.add_note), not a table of their own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, _community_fk, utcnow

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")

ROLES = ("admin", "community_staff", "grid_worker", "street_staff")


def _staff_fk(**kw: Any) -> Mapped[int]:
    return mapped_column(ForeignKey("staff_accounts.id", ondelete="CASCADE"), **kw)


class StaffAccount(Base):
    """A person who logs into the console. ``community_id`` is the home community (the one the
    console opens on); what the account may see is its role plus its scopes."""

    __tablename__ = "staff_accounts"
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # admin | community_staff | grid_worker | street_staff
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]


class StaffScope(Base):
    """One community (grid_id None: all of it) or one grid an account may see and act in."""

    __tablename__ = "staff_scopes"
    __table_args__ = (UniqueConstraint("staff_id", "community_id", "grid_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = _staff_fk(index=True)
    community_id: Mapped[int] = _community_fk()
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"))


class StaffSession(Base):
    """A logged-in browser. ``community_id`` is the community the console currently shows."""

    __tablename__ = "staff_sessions"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    staff_id: Mapped[int] = _staff_fk(index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))


class LoginAttempt(Base):
    """Every login try, for the rate limit (by username and by address) and for the record.

    Deployment-level, like the accounts' usernames: a failed try names no community.
    """

    __tablename__ = "staff_login_attempts"
    __table_args__ = (Index("ix_staff_login_attempts_user", "username", "at"),
                      Index("ix_staff_login_attempts_ip", "ip", "at"))

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime]


class StaffAudit(Base):
    """What a staff member did, where and to what — written in the same transaction as the act."""

    __tablename__ = "staff_audit"
    __table_args__ = (Index("ix_staff_audit_community_at", "community_id", "at"),)

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"), index=True)
    staff_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(80))  # "ticket:12", "resident:7", "staff:3"
    detail: Mapped[dict[str, Any] | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime]


class CannedReply(Base):
    """A ready-made answer staff pick when replying to a resident (常用回复)."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("community_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    title: Mapped[str] = mapped_column(String(50))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThreadClaim(Base):
    """Who took over a resident's escalated thread (接管); removed when the thread is closed."""

    __tablename__ = "staff_thread_claims"
    __table_args__ = (UniqueConstraint("resident_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = _staff_fk()
    staff_name: Mapped[str] = mapped_column(String(50))
    claimed_at: Mapped[datetime]


class NoticeTemplate(Base):
    """A community's template message (模板消息) for one kind of notice, kept by admins in the
    console: used when the 48-hour window has closed, before the account's entry in the config."""

    __tablename__ = "notice_templates"
    __table_args__ = (UniqueConstraint("community_id", "notice_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = _community_fk()
    notice_kind: Mapped[str] = mapped_column(String(32))  # reply | ticket_status | … (bot/texts/console NOTICE_KINDS)
    template_id: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]]  # template field → notice field, e.g. {"keyword1": "number"}
    url: Mapped[str] = mapped_column(String(500), default="")
    updated_by: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
