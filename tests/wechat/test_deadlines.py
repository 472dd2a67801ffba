"""The shared deadline timer (bot/wechat/deadlines.py) on the real event loop: an answer still
pending at its deadline is marked missed (None), one given in time is left alone, and one sweep
serves every request in flight."""

from __future__ import annotations

import asyncio

from bot.wechat import deadlines
from bot.wechat.deadlines import Deadlines


async def test_an_answer_still_pending_at_its_deadline_is_marked_missed():
    loop = asyncio.get_running_loop()
    watched = Deadlines()
    late = loop.create_future()
    watched.watch(late, loop.time() + 0.01)
    assert await asyncio.wait_for(late, timeout=2) is None


async def test_an_answer_given_in_time_is_left_alone():
    loop = asyncio.get_running_loop()
    watched = Deadlines()
    early, cancelled = loop.create_future(), loop.create_future()
    watched.watch(early, loop.time() + 0.05)
    watched.watch(cancelled, loop.time() + 0.05)
    early.set_result("reply")
    cancelled.cancel()  # the request went away
    await asyncio.sleep(0.05 + 2 * deadlines.SWEEP_SECONDS)
    assert early.result() == "reply" and cancelled.cancelled()
    assert not watched._waiting and watched._sweep_at is None  # nothing left to sweep


async def test_each_deadline_is_met_and_later_ones_wait_for_theirs():
    loop = asyncio.get_running_loop()
    watched = Deadlines()
    start = loop.time()
    answers = [loop.create_future() for _ in range(3)]
    for offset, answer in zip((0.0, 0.2, 10.0), answers):
        watched.watch(answer, start + offset)
    await asyncio.wait_for(answers[1], timeout=2)
    missed_at = loop.time() - start
    assert answers[0].result() is None and answers[1].result() is None and not answers[2].done()
    assert 0.2 <= missed_at < 0.2 + 4 * deadlines.SWEEP_SECONDS
    answers[2].set_result("reply")  # the long one ends in time; its sweep has nothing to do


async def test_many_requests_share_one_pending_sweep(monkeypatch):
    loop = asyncio.get_running_loop()
    scheduled = []
    call_at = loop.call_at
    monkeypatch.setattr(loop, "call_at", lambda when, callback: scheduled.append(when) or call_at(when, callback))
    watched = Deadlines()
    answers = [loop.create_future() for _ in range(100)]
    for answer in answers:
        watched.watch(answer, loop.time() + 4.0)
        answer.set_result("reply")
    assert len(scheduled) == 1
