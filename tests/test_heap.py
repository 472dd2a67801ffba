"""bot/heap.py: after start-up, nothing then alive is left for the cyclic collector to walk."""

from __future__ import annotations

import gc

import pytest
from aiohttp import web

from bot import heap


@pytest.fixture
def unfrozen_afterwards():
    yield
    gc.unfreeze()


async def test_start_up_freezes_what_is_alive(unfrozen_afterwards):
    built_at_start = [{"long": "lived"} for _ in range(1000)]
    await heap.settle(web.Application())
    assert gc.get_freeze_count() >= len(built_at_start)
    tracked = {id(o) for o in gc.get_objects()}
    assert not any(id(o) in tracked for o in built_at_start)
