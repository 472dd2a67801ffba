"""One timer for the reply deadlines of every request in flight.

Each message is handled in a task of its own while the request waits for its answer, so that a
late handler can go on after WeChat has been told `success`. A timer per request (call_later,
then cancel) and a callback to wake the request were a twentieth of the endpoint's work
(bench/RESULTS.md, "Endpoint — Sixth session"). Here a request only appends its answer future
and deadline to a queue; a single sweep, at most every SWEEP_SECONDS, marks the answers that are
past their deadline as missed (None). A deadline is thus met up to SWEEP_SECONDS late, which the
default 4.0 s leaves room for within WeChat's 5 s.
"""

from __future__ import annotations

import asyncio
from collections import deque

SWEEP_SECONDS = 0.05


class Deadlines:
    def __init__(self) -> None:
        self._waiting: deque[tuple[float, asyncio.Future]] = deque()
        self._sweep_at: float | None = None  # when the pending sweep runs; None: none pending

    def watch(self, answer: asyncio.Future, at: float) -> None:
        """Set `answer` to None at loop time `at` unless it is done by then.

        Deadlines are met in the order they were given; one earlier than a deadline given
        before it (a request whose body took longer to arrive) waits for that one."""
        self._waiting.append((at, answer))
        if self._sweep_at is None:
            self._schedule(at)

    def _schedule(self, at: float) -> None:
        loop = asyncio.get_running_loop()
        self._sweep_at = max(at, loop.time() + SWEEP_SECONDS)
        loop.call_at(self._sweep_at, self._sweep)

    def _sweep(self) -> None:
        now = asyncio.get_running_loop().time()
        waiting = self._waiting
        while waiting and (waiting[0][1].done() or waiting[0][0] <= now):
            _, answer = waiting.popleft()
            if not answer.done():
                answer.set_result(None)
        self._sweep_at = None
        if waiting:
            self._schedule(waiting[0][0])
