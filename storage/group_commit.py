"""Group commit: the small writes of concurrent requests share one transaction.

Each incoming message needs a handful of tiny writes (claim its key, log it, record the reply).
Run one by one, a transaction's fixed cost — BEGIN, COMMIT, session set-up, building each
statement — is most of the work. Here a request hands its item over and waits; items that arrive
while a transaction is running go together in the next one, as multi-row statements. Nobody waits
for a timer: a lone item is written at once, and a batch only forms under load, when waiting for
the running transaction was unavoidable anyway (as in PostgreSQL's own group commit).

A batch is all-or-nothing unless the writer says otherwise: if it raises, its items are retried
one at a time, so one bad item fails alone and the others still commit. A writer that commits a
batch in parts returns an exception in place of the result of each item whose part failed; those
items, and only those, are retried one at a time.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Generic, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

log = logging.getLogger("linli.storage")


class GroupCommit(Generic[Item, Result]):
    def __init__(self, run: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]], *,
                 max_batch: int = 200) -> None:
        self._run = run
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None
        self.batches = 0  # for tests and benchmarks: how many transactions ran

    async def submit(self, item: Item) -> Result:
        """Write the item in the next transaction and return its result once committed."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flusher is None:
            self._flusher = asyncio.create_task(self._flush())
        # A cancelled caller cancels only its own future: the batch it joined is written anyway,
        # and _settle skips a future already done.
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                await asyncio.sleep(0)  # requests made ready in this loop pass join the batch
                batch, self._pending = self._pending[:self._max_batch], self._pending[self._max_batch:]
                await self._write(batch)
        finally:
            self._flusher = None

    async def _write(self, batch: list[tuple[Item, asyncio.Future]]) -> None:
        self.batches += 1
        try:
            results = await self._run([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], error=exc)
                return
            log.warning("a batch of %d writes failed (%s); retrying them one by one", len(batch), exc)
            for single in batch:
                await self._write([single])
            return
        failed = []
        for single, result in zip(batch, results, strict=True):
            if not isinstance(result, BaseException):
                _settle(single[1], result=result)
            elif len(batch) == 1:
                _settle(single[1], error=result)
            else:
                failed.append(single)
        if failed:
            log.warning("%d of a batch of %d writes failed; retrying them one by one", len(failed), len(batch))
        for single in failed:
            await self._write([single])

    async def drain(self) -> None:
        """Wait until everything submitted so far is written (for shutdown)."""
        while self._flusher is not None:
            await asyncio.shield(self._flusher)


def _settle(future: asyncio.Future, *, result=None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
