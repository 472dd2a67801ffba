"""Once the server has started, what it built to run — SQLAlchemy's mappers and compiled
statements, the routes, the configuration, the pools — lives as long as the process. Python's
cyclic garbage collector would still walk those ~50,000 objects in every full collection (the NLU's
are frozen as it loads, nlp.engine). Here they are frozen too, after a last collection so no
garbage is kept, and the youngest generation is collected every 7,000 allocations instead of 700:
a message's garbage is freed by reference counting, the collector only finds the odd cycle.
Together: 13 → 2 µs of collection a message (bench/RESULTS.md, "Endpoint — Sixth session").

Only for `linli serve` (each worker of it): the tests start hundreds of apps in one process, and
freezing each one's objects would keep them all.
"""

from __future__ import annotations

import gc

from aiohttp import web

YOUNG_GENERATION_THRESHOLD = 7000


async def settle(app: web.Application) -> None:
    """An on_startup hook; append it after every other one."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)
