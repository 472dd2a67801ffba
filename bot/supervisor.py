"""`linli serve --workers N`: N server processes on one port, kept running by the parent.

One Python process uses one core, so a busy server runs a process per core. Each worker binds
the same host and port with SO_REUSEPORT (Linux), and the kernel spreads incoming connections
over them; all state is in the database, so any worker can take any message (a WeChat retry
of a message whose worker died is taken over by another: bot/dispatcher/middlewares.py).

The parent runs no server of its own. It starts the workers as `linli serve --worker-index I`
(fresh interpreters, not forks of a process that holds an event loop and database
connections), and then:

- forwards SIGTERM / SIGINT as SIGTERM to every worker (each finishes its requests and stops
  cleanly) and exits 0 once they have stopped — SIGKILL for any still running after
  ``stop_timeout``;
- restarts a worker that dies (killed, crashed, out of memory), at once if it had been running
  for a while, else after a backoff that doubles up to ``max_backoff`` so a crash loop does not
  spin the CPU;
- exits 1 when a worker fails to *start* ``max_failed_starts`` times in a row (it died before
  it was listening: a port in use, a database that refuses it, a broken install): a restart
  cannot fix that, the operator (or systemd's restart policy) must.

The scheduler (reminders, 督办, housekeeping) runs in worker 0 only, unless `--no-scheduler`
leaves it to `linli scheduler` processes. Its jobs claim rows atomically and are safe to run
twice, so one copy is only to save work; a restarted worker 0 runs it again. Every worker runs
an outbox worker (sends are claimed atomically too).

A worker tells the parent it is listening by writing one byte to a pipe whose descriptor is in
``LINLI_SUPERVISOR_READY_FD``; the kernel makes it die with SIGTERM if the parent dies
(PR_SET_PDEATHSIG), so a killed supervisor leaves no orphans on the port. Every worker adds an
``X-Linli-Worker: <index> <pid>`` header to /healthz answers, so an operator (and the tests) can
see which worker answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

log = logging.getLogger("linli.supervisor")

READY_FD_ENV = "LINLI_SUPERVISOR_READY_FD"
WORKER_HEADER = "X-Linli-Worker"
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Policy:
    """When to restart and when to give up."""

    max_failed_starts: int = 5  # deaths before listening, in a row, per worker: then exit 1
    stable_seconds: float = 30.0  # a worker up this long restarts at once when it dies
    base_backoff: float = 0.5
    max_backoff: float = 30.0
    stop_timeout: float = 30.0  # graceful stop, then SIGKILL

    def delay(self, quick_deaths: int) -> float:
        """0 after a long run; 0.5, 1, 2 … seconds (capped) after each quick death in a row."""
        if quick_deaths <= 0:
            return 0.0
        return min(self.base_backoff * 2 ** (quick_deaths - 1), self.max_backoff)


@dataclass
class Slot:
    """One worker position; its process is replaced when it dies."""

    index: int
    process: asyncio.subprocess.Process | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = 0.0
    failed_starts: int = 0
    quick_deaths: int = 0


class Supervisor:
    """Runs ``command(index)`` for every worker index until told to stop."""

    def __init__(self, command: Callable[[int], list[str]], workers: int, policy: Policy = Policy()) -> None:
        self.command = command
        self.policy = policy
        self.slots = [Slot(index) for index in range(workers)]
        self._stopping = asyncio.Event()
        self._gave_up = asyncio.Event()

    async def run(self) -> int:
        """0 after a requested stop, 1 when workers keep failing to start."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        try:
            keepers = [asyncio.create_task(self._keep(slot)) for slot in self.slots]
            await _first(self._stopping.wait(), self._gave_up.wait())
            self._stopping.set()
            await self._stop_all()
            await asyncio.gather(*keepers, return_exceptions=True)
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        return 1 if self._gave_up.is_set() else 0

    def stop(self) -> None:
        """Stop every worker gracefully and return from run() (what SIGTERM and SIGINT do)."""
        self._stopping.set()

    async def _keep(self, slot: Slot) -> None:
        """Start the slot's worker, and again each time it dies, until stopping."""
        while not self._stopping.is_set():
            code = await self._run_once(slot)
            if self._stopping.is_set():
                return
            delay = self._after_death(slot, code)
            if self._gave_up.is_set():
                return
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _run_once(self, slot: Slot) -> int | None:
        """The worker's exit status; None if it could not even be started."""
        try:
            await self._spawn(slot)
        except OSError as exc:
            log.error("worker %d could not be started: %s", slot.index, exc)
            slot.process, slot.started = None, time.monotonic()
            return None
        if self._stopping.is_set():  # a stop came while it was being started: it must not outlive us
            with contextlib.suppress(ProcessLookupError):
                slot.process.send_signal(signal.SIGTERM)
        return await slot.process.wait()

    def _after_death(self, slot: Slot, code: int | None) -> float:
        """Count the death, decide the backoff; give up on a worker that cannot start."""
        pid = slot.process.pid if slot.process else None
        if pid is not None:
            _forget_metrics(pid)
        uptime = time.monotonic() - slot.started
        listening = slot.ready.is_set()
        slot.failed_starts = 0 if listening else slot.failed_starts + 1
        slot.quick_deaths = slot.quick_deaths + 1 if uptime < self.policy.stable_seconds else 0
        how = _how_it_ended(code)
        if slot.failed_starts >= self.policy.max_failed_starts:
            log.error("worker %d (pid %s) %s before it was listening, %d times in a row: giving up",
                      slot.index, pid, how, slot.failed_starts)
            self._gave_up.set()
            return 0.0
        delay = self.policy.delay(slot.quick_deaths)
        log.warning("worker %d (pid %s) %s after %.1fs%s; restarting in %.1fs", slot.index, pid, how,
                    uptime, "" if listening else " (before it was listening)", delay)
        return delay

    async def _spawn(self, slot: Slot) -> None:
        read_fd, write_fd = os.pipe()
        slot.ready = asyncio.Event()
        try:
            slot.process = await asyncio.create_subprocess_exec(
                *self.command(slot.index), pass_fds=(write_fd,), env={**os.environ, READY_FD_ENV: str(write_fd)},
                preexec_fn=_die_with_parent)
        finally:
            os.close(write_fd)
        slot.started = time.monotonic()
        _watch_ready(read_fd, slot.ready)
        log.info("worker %d started (pid %d)", slot.index, slot.process.pid)

    async def _stop_all(self) -> None:
        running = [slot.process for slot in self.slots if slot.process and slot.process.returncode is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        done, late = await asyncio.wait([asyncio.create_task(p.wait()) for p in running],
                                        timeout=self.policy.stop_timeout) if running else (set(), set())
        if late:
            log.warning("%d worker(s) still running %.0fs after SIGTERM: killing them", len(late),
                        self.policy.stop_timeout)
            for process in running:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
            await asyncio.gather(*(p.wait() for p in running))


def _how_it_ended(code: int | None) -> str:
    if code is None:
        return "could not be started"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with {code}"


async def _first(*waits) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()


def _watch_ready(read_fd: int, ready: asyncio.Event) -> None:
    """The worker writes one byte when it listens; end of file (it died, or is done) closes the pipe."""
    loop = asyncio.get_running_loop()

    def readable() -> None:
        data = os.read(read_fd, 16)
        if data:
            ready.set()
            return
        loop.remove_reader(read_fd)
        os.close(read_fd)
    loop.add_reader(read_fd, readable)


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor dies, so no worker is orphaned."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _forget_metrics(pid: int) -> None:
    """prometheus_client's multiprocess mode: drop the dead worker's live gauges (counters stay)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        with contextlib.suppress(Exception):
            from prometheus_client import multiprocess
            multiprocess.mark_process_dead(pid)


# ---- the two sides, as `linli serve` calls them -------------------------------------------------

def worker_command(*, config_path: str | None, host: str, port: int, scheduler: bool) -> Callable[[int], list[str]]:
    """`linli serve` for one worker; the scheduler only in worker 0 (and not with --no-scheduler)."""
    def command(index: int) -> list[str]:
        args = [sys.executable, "-m", "bot.cli", "serve", "--host", host, "--port", str(port),
                "--worker-index", str(index)]
        if config_path:
            args += ["--config", config_path]
        if not (scheduler and index == 0):
            args.append("--no-scheduler")
        return args
    return command


def supervise(command: Callable[[int], list[str]], workers: int, policy: Policy = Policy()) -> int:
    log.info("supervising %d workers", workers)
    code = asyncio.run(Supervisor(command, workers, policy).run())
    log.info("all workers stopped" if code == 0 else "stopped: workers keep failing to start")
    return code


def run_worker(app, *, host: str, port: int, index: int, shutdown_timeout: float = 10.0) -> None:
    """One worker: the app on the shared port (SO_REUSEPORT) until SIGTERM / SIGINT."""
    app.on_response_prepare.append(_worker_header(index))
    asyncio.run(_serve(app, host, port, shutdown_timeout))


async def _serve(app, host: str, port: int, shutdown_timeout: float) -> None:
    from aiohttp import web

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_port=True).start()
        log.info("worker listening on http://%s:%d (pid %d)", host, port, os.getpid())
        _tell_parent_ready()
        await stop.wait()
    finally:
        await runner.cleanup()


def _tell_parent_ready() -> None:
    fd = os.environ.pop(READY_FD_ENV, None)
    if fd is None:
        return
    with contextlib.suppress(OSError):
        os.write(int(fd), b"r")
        os.close(int(fd))


def _worker_header(index: int):
    value = f"{index} {os.getpid()}"

    async def on_prepare(request, response) -> None:
        if request.path == "/healthz":
            response.headers[WORKER_HEADER] = value
    return on_prepare


__all__ = ["Policy", "Supervisor", "run_worker", "supervise", "worker_command"]
