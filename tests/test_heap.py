"""bot/heap.py on the running loop: after start-up, nothing alive is left for the cyclic collector
to walk, and the young generation is collected less often."""

from __future__ import annotations

import gc

import pytest
from aiohttp import web

from bot import heap


@pytest.fixture
def restored_gc():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


async def test_start_up_freezes_what_is_alive_and_collects_the_young_less_often(restored_gc):
    built_at_start = [{"long": "lived"} for _ in range(1000)]
    await heap.settle(web.Application())
    assert gc.get_freeze_count() >= len(built_at_start)
    assert all(not any(o is x for x in gc.get_objects()) for o in built_at_start[:3])
    assert gc.get_threshold()[0] == heap.YOUNG_GENERATION_THRESHOLD
