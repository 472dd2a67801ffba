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
