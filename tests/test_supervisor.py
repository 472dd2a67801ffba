"""The supervisor's rules with tiny real worker processes (the real `linli serve --workers` runs
in tests/production/test_workers.py): restart after a death, backoff, give up on workers that
cannot start, stop them all."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.supervisor import READY_FD_ENV, Policy, Supervisor

FAST = dict(base_backoff=0.01, max_backoff=0.05, stop_timeout=10.0)

# A worker: notes its start, says it is listening, then lives until SIGTERM — except that the
# first one of each index dies (exit 7) right after listening. It takes SIGTERM before it says it
# is listening, as the real one does: a stop right after the word must end it cleanly.
WORKER = """
import os, signal, sys, time
log, index = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with open(log, "a") as f:
    f.write(index + "\\n")
os.write(int(os.environ["%s"]), b"r")
if open(log).read().split().count(index) == 1:
    sys.exit(7)
while True:
    time.sleep(1)
""" % READY_FD_ENV


def test_backoff_doubles_after_quick_deaths_and_is_capped():
    policy = Policy(base_backoff=0.5, max_backoff=30.0)
    assert [policy.delay(n) for n in range(9)] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


async def test_a_dead_worker_is_replaced_and_stop_ends_them_all(tmp_path):
    log = tmp_path / "starts"
    supervisor = Supervisor(lambda i: [sys.executable, "-c", WORKER, str(log), str(i)], 2, Policy(**FAST))
    running = asyncio.create_task(supervisor.run())
    await _until(lambda: sorted(_read(log)) == ["0", "0", "1", "1"])  # each died once, came back once
    await _until(lambda: all(s.process and s.process.returncode is None and s.ready.is_set()
                             for s in supervisor.slots))
    pids = [slot.process.pid for slot in supervisor.slots]
    supervisor.stop()
    assert await asyncio.wait_for(running, 20) == 0
    assert [slot.process.returncode for slot in supervisor.slots] == [0, 0]  # stopped by SIGTERM, cleanly
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


async def test_workers_that_die_before_listening_make_it_give_up(tmp_path):
    log = tmp_path / "starts"
    command = [sys.executable, "-c", f"open({str(log)!r}, 'a').write('x'); raise SystemExit(3)"]
    supervisor = Supervisor(lambda i: command, 1, Policy(max_failed_starts=3, **FAST))
    assert await asyncio.wait_for(supervisor.run(), 30) == 1
    assert log.read_text() == "xxx"


async def test_a_worker_that_cannot_be_executed_counts_as_a_failed_start(tmp_path):
    supervisor = Supervisor(lambda i: [str(tmp_path / "no-such-program")], 1, Policy(max_failed_starts=2, **FAST))
    assert await asyncio.wait_for(supervisor.run(), 30) == 1


async def test_sigterm_to_the_supervisor_is_a_graceful_stop(tmp_path):
    log = tmp_path / "starts"
    supervisor = Supervisor(lambda i: [sys.executable, "-c", WORKER, str(log), "9"], 1, Policy(**FAST))
    (tmp_path / "starts").write_text("9\n")  # so the worker does not die on its first start
    running = asyncio.create_task(supervisor.run())
    await _until(lambda: supervisor.slots[0].ready.is_set())
    os.kill(os.getpid(), signal.SIGTERM)  # the loop's handler, installed by run(), turns it into stop()
    assert await asyncio.wait_for(running, 20) == 0
    assert supervisor.slots[0].process.returncode == 0


def _read(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


async def _until(condition, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "not reached in time"
        await asyncio.sleep(0.02)
