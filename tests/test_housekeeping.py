"""Logs never carry a whole phone number; old dedup keys are purged, recent ones kept."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.logs import MaskingFilter, mask_phones
from bot.scheduler import purge_dedup_keys
from bot.services import Services
from storage.models import Community, ProcessedMessage
from tests.conftest import make_settings


def test_phone_numbers_are_masked_in_log_lines():
    assert mask_phones("resident 13812345678 called") == "resident 138****5678 called"
    assert mask_phones("order 2026112300123456") == "order 2026112300123456"  # not a phone
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "phone %s", ("13912345678",), None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "phone 139****5678"


async def test_purge_removes_only_finished_keys_older_than_retention(db, db_url):
    now = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
    async with db.sessions.begin() as session:
        session.add(Community(id=1, slug="test", name="测试社区"))
        await session.flush()
        for key, age, status in (("old", 72, "done"), ("recent", 1, "done"), ("stuck", 72, "running")):
            session.add(ProcessedMessage(community_id=1, account="test", dedup_key=key, status=status,
                                         started_at=now - timedelta(hours=age)))
    services = Services(settings=make_settings(db_url), db=db, nlu=None, community_ids={"test": 1},
                        clock=lambda: now)
    assert await purge_dedup_keys(services) == 1
    async with db.sessions() as session:
        assert set(await session.scalars(select(ProcessedMessage.dedup_key))) == {"recent", "stuck"}
