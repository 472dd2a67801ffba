"""Group commit: concurrent writes share transactions, and one bad item fails alone."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from storage.group_commit import GroupCommit
from storage.models import ProcessedMessage


class Recorder:
    """A stand-in for the database: remembers each batch it was asked to write."""

    def __init__(self, fail_on: set[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.fail_on = fail_on

    async def run(self, items):
        self.batches.append(list(items))
        await asyncio.sleep(0.01)  # a transaction takes time; others queue meanwhile
        if self.fail_on & set(items):
            raise RuntimeError("constraint violated")
        return [item * 10 for item in items]


async def test_a_lone_item_is_written_at_once():
    recorder = Recorder()
    commits = GroupCommit(recorder.run)
    assert await commits.submit(1) == 10
    assert recorder.batches == [[1]]


async def test_items_arriving_during_a_transaction_share_the_next_one():
    recorder = Recorder()
    commits = GroupCommit(recorder.run)
    first = asyncio.create_task(commits.submit(0))
    await asyncio.sleep(0.001)  # the first transaction is running now
    results = await asyncio.gather(first, *(commits.submit(i) for i in range(1, 21)))
    assert results == [i * 10 for i in range(21)]
    assert recorder.batches == [[0], list(range(1, 21))]


async def test_batches_are_capped():
    recorder = Recorder()
    commits = GroupCommit(recorder.run, max_batch=8)
    await asyncio.gather(*(commits.submit(i) for i in range(20)))
    assert [len(b) for b in recorder.batches] == [8, 8, 4]


async def test_a_failing_item_fails_alone_and_the_others_commit():
    recorder = Recorder(fail_on={3})
    commits = GroupCommit(recorder.run)
    results = await asyncio.gather(*(commits.submit(i) for i in range(5)), return_exceptions=True)
    assert [r for i, r in enumerate(results) if i != 3] == [0, 10, 20, 40]
    assert isinstance(results[3], RuntimeError)
    assert recorder.batches[0] == [0, 1, 2, 3, 4]  # tried together first, then one by one
    assert recorder.batches[1:] == [[0], [1], [2], [3], [4]]


async def test_a_cancelled_caller_does_not_cancel_the_write():
    recorder = Recorder()
    commits = GroupCommit(recorder.run)
    caller = asyncio.create_task(commits.submit(7))
    await asyncio.sleep(0.001)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await commits.drain()
    assert recorder.batches == [[7]]


async def test_concurrent_messages_share_transactions_on_the_real_database(wechat, app_client, db):
    from bot.keys import DISPATCHER

    dispatcher = app_client.server.app[DISPATCHER]
    before = dispatcher.commits.batches
    replies = await asyncio.gather(*(wechat.resident(f"o_gc_{i}").say("你好") for i in range(30)))
    assert all(replies)
    # each message needs an admission and a record: 60 writes, far fewer transactions
    assert dispatcher.commits.batches - before < 40
    async with db.sessions() as session:
        done = await session.scalar(select(func.count()).select_from(ProcessedMessage)
                                    .where(ProcessedMessage.status == "done"))
    assert done == 30


async def test_a_part_that_failed_is_retried_alone_and_the_committed_part_is_not():
    batches = []

    async def run_in_parts(items):
        """Odd items commit; even ones fail as a part when written with others."""
        batches.append(list(items))
        await asyncio.sleep(0.01)
        failed = RuntimeError("the even part failed")
        return [failed if item % 2 == 0 and len(items) > 1 else item * 10 for item in items]

    commits = GroupCommit(run_in_parts)
    results = await asyncio.gather(*(commits.submit(i) for i in range(5)))
    assert results == [0, 10, 20, 30, 40]
    assert batches == [[0, 1, 2, 3, 4], [0], [2], [4]]  # the odd items were written once
