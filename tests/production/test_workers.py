"""`linli serve --workers 2`: two processes answer on one port, a killed one is replaced while
the port keeps answering, SIGTERM stops them all cleanly, and workers that cannot start make
the supervisor give up with a non-zero exit (bot/supervisor.py)."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot.supervisor import WORKER_HEADER
from storage.db import Database
from storage.models import ServerWorker
from tests.production.processes import free_port, until, write_config


async def answering(port: int, connections: int = 30) -> tuple[set[int], int]:
    """The worker pids that answered /healthz over this many fresh connections, and the failures.

    A new connection each time (new source port), so the kernel's SO_REUSEPORT hash spreads them."""
    pids, failures = set(), 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        for _ in range(connections):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    assert response.status == 200
                    pids.add(int(response.headers[WORKER_HEADER].split()[1]))
            except aiohttp.ClientError:
                failures += 1
    return pids, failures


def gone(pid: int) -> bool:
    """Dead: no such process, or a zombie waiting for its parent (its sockets are closed)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def test_two_workers_on_one_port_a_killed_one_is_replaced(processes, pg_url, tmp_path):
    config = write_config(tmp_path, pg_url, "http://127.0.0.1:9", dedup={"heartbeat_seconds": 0.5})
    port = free_port()
    supervisor = processes.serve("supervisor", config, port, "--workers", "2")
    first: set[int] = set()

    async def two_answer() -> bool:
        first.update((await answering(port, 10))[0])
        return len(first) == 2
    await until(two_answer, 60, "two workers never answered", supervisor)

    victim, survivor = sorted(first)
    os.kill(victim, signal.SIGKILL)
    await until(lambda: gone(victim), 10, "the killed worker did not die")
    pids, failures = await answering(port)
    assert failures == 0 and victim not in pids  # the port keeps answering meanwhile

    now: set[int] = set()

    async def replaced() -> bool:
        now.update((await answering(port, 10))[0])
        return len(now - {victim}) == 2
    await until(replaced, 60, "the killed worker was not replaced", supervisor)
    assert survivor in now and supervisor.popen.poll() is None

    assert supervisor.stop() == 0  # SIGTERM is forwarded; every worker stops cleanly
    assert all(gone(pid) for pid in now | first)
    db = Database(pg_url)
    try:
        async with db.sessions() as session:
            left = list(await session.scalars(select(ServerWorker.id)))
    finally:
        await db.dispose()
    assert [int(worker.split(":")[1]) for worker in left] == [victim]  # only the killed one never said goodbye
    assert "worker 1 (pid" in supervisor.output() or "worker 0 (pid" in supervisor.output()


async def test_workers_that_cannot_start_make_the_supervisor_exit_1(processes, pg_url, tmp_path):
    config = write_config(tmp_path, pg_url, "http://127.0.0.1:9")
    with socket.socket() as taken:  # a listener without SO_REUSEPORT: no worker can bind beside it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        supervisor = processes.serve("supervisor", config, port, "--workers", "2", "--max-failed-starts", "2")
        await until(lambda: supervisor.popen.poll() is not None, 90, "the supervisor kept restarting", None)
    assert supervisor.popen.returncode == 1
    assert "before it was listening, 2 times in a row: giving up" in supervisor.output()
