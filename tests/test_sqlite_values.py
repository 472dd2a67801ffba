"""The values the SQLite batch path (storage/admission_sqlite.py) writes and reads by hand are
exactly those SQLAlchemy's column types write and read, so rows written either way look the same
to every query."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import sqlite

from storage import admission_sqlite as lite
from storage.models import UtcDateTime

DIALECT = sqlite.dialect()
SQLALCHEMY_WRITES = UtcDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
SQLALCHEMY_READS = UtcDateTime().dialect_impl(DIALECT).result_processor(DIALECT, None)


def _moments() -> list[datetime]:
    rng = random.Random(7)
    start = datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc)
    moments = [start + timedelta(seconds=rng.randrange(0, 40 * 365 * 86400), microseconds=rng.randrange(0, 10**6))
               for _ in range(300)]
    moments += [datetime(2026, 12, 7, 18, 0, tzinfo=timezone.utc),  # no microseconds: still written with them
                datetime(2026, 12, 7, 18, 0, 0, 5, tzinfo=timezone.utc),
                datetime(2027, 1, 1, 7, 59, 59, 999_999, tzinfo=ZoneInfo("Asia/Shanghai"))]
    return moments


@pytest.mark.parametrize("moment", _moments())
def test_times_are_written_as_sqlalchemy_writes_them(moment):
    assert lite.sql_time(moment) == lite.sql_time.__wrapped__(moment) == SQLALCHEMY_WRITES(moment)


def test_the_text_of_one_second_serves_every_moment_in_it():
    base = datetime(2026, 12, 7, 18, 0, 1, tzinfo=timezone.utc)
    texts = [lite.sql_time.__wrapped__(base + timedelta(microseconds=us)) for us in (0, 1, 999_999, 1_000_000)]
    assert texts == ["2026-12-07 18:00:01.000000", "2026-12-07 18:00:01.000001", "2026-12-07 18:00:01.999999",
                     "2026-12-07 18:00:02.000000"]


@pytest.mark.parametrize("moment", _moments()[:50])
def test_times_are_read_as_sqlalchemy_reads_them(moment):
    stored = SQLALCHEMY_WRITES(moment)
    assert lite._read_time(stored) == SQLALCHEMY_READS(stored) == moment
    assert lite._read_time(stored).tzinfo is timezone.utc


@pytest.mark.parametrize("stored", ["[]", "{}", '["member_household"]', '{"step": "address"}'])
def test_json_is_read_fresh_each_time(stored):
    first, second = lite._read_json(stored), lite._read_json(stored)
    assert first == second and first is not second  # a handler may change what it was given


@pytest.mark.backend_specific
async def test_every_connection_reads_the_file_through_a_memory_map(sqlite_url):
    from sqlalchemy import text

    from storage.db import Database

    db = Database(sqlite_url)
    try:
        async with db.sessions() as session:
            assert await session.scalar(text("PRAGMA mmap_size")) == 268435456
        assert await db.direct.transaction(lambda c: c.execute("PRAGMA mmap_size").fetchone()[0]) == 268435456
    finally:
        await db.dispose()
