"""Once the server has started, what it built to run — SQLAlchemy's mappers and compiled
statements, the routes, the configuration, the pools — lives as long as the process. Python's
cyclic garbage collector would still walk those ~50,000 objects whenever it collects the older
generations (the NLU's are frozen as it loads, nlp.engine). Here they are frozen too, after a
last collection so no garbage is kept: 13 → 5 µs of collection a message (bench/RESULTS.md,
"Endpoint — Sixth session"). The collection thresholds stay Python's: collecting the young less
often saved 3 µs more but makes each pause longer, and the load benchmark's p99 is made of pauses.

Only for `linli serve` (each worker of it): the tests start hundreds of apps in one process, and
freezing each one's objects would keep them all.
"""

from __future__ import annotations

import gc

from aiohttp import web


async def settle(app: web.Application) -> None:
    """An on_startup hook; append it after every other one."""
    gc.collect()
    gc.freeze()
