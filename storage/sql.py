"""Dialect helpers: INSERT … ON CONFLICT is spelled the same on SQLite and PostgreSQL in SQLAlchemy,
but lives in each dialect's module."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert_insert(session: AsyncSession, table):
    """An INSERT that supports on_conflict_do_nothing/do_update for the session's database."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def int_or_none(value: object) -> int | None:
    """A number typed by a person or taken from a URL, or None — also for one no INTEGER column can
    hold: PostgreSQL's INTEGER is 32 bits and refuses such a query parameter outright (SQLite's
    is 64), so it is treated as the wrong number it is instead of failing the request."""
    try:
        number = int(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number is None or INT_MIN <= number <= INT_MAX else None
