"""Real Linli processes for the production tests: a config file, `linli …` subprocesses, and a
WeChat that posts to whichever port a test names.

Every process is started from the CLI (`python -m bot.cli …`, or a test launcher module) with a
TOML file written here, its output in a log file the failure message shows, and is stopped by
the ``processes`` fixture whatever the test did.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import tomli_w

from bot.config import load_settings
from tests.conftest import TEST_AES_KEY, TEST_APPID, TEST_PREVIOUS_AES_KEY, TEST_SECRET, TEST_TOKEN
from tests.wechat_client import WeChatClient

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(folder: Path, db_url: str, api_base_url: str, **sections: dict[str, Any]) -> Path:
    """The test account (safe mode) on ``db_url``, quiet logs, fast outbox retries; ``sections``
    are merged over that (``dedup={"heartbeat_seconds": 0.2}``)."""
    data: dict[str, Any] = {
        "database": {"url": db_url, "pool_size": 5},
        "wechat": {"base_url": api_base_url, "timeout_seconds": 2.0},
        "server": {"simulator": False, "spool_dir": str(folder / "spool")},
        "log": {"level": "WARNING"},
        "outbox": {"base_backoff_seconds": 0.05, "max_backoff_seconds": 0.2, "poll_interval_seconds": 0.2},
        "communities": [{"slug": "test", "name": "测试社区"}],
        "accounts": [{"name": "test", "community": "test", "appid": TEST_APPID, "secret": TEST_SECRET,
                      "token": TEST_TOKEN, "encoding_aes_key": TEST_AES_KEY,
                      "previous_encoding_aes_key": TEST_PREVIOUS_AES_KEY, "encryption": "safe"}],
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    path = folder / "linli.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@dataclass
class Process:
    """One subprocess and its log."""

    name: str
    popen: subprocess.Popen
    log: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when the kernel's OOM killer strikes."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 30.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode


@dataclass
class Processes:
    """Starts processes in ``folder`` and stops every one of them at the end of the test."""

    folder: Path
    started: list[Process] = field(default_factory=list)

    def start(self, name: str, *args: str, port: int | None = None, module: str = "bot.cli") -> Process:
        log = self.folder / f"{name}.log"
        handle = log.open("wb")
        popen = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, stdout=handle,
                                 stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        handle.close()
        process = Process(name, popen, log, port)
        self.started.append(process)
        return process

    def serve(self, name: str, config: Path, port: int, *extra: str, module: str = "bot.cli") -> Process:
        head = ["serve"] if module == "bot.cli" else []
        return self.start(name, *head, "--config", str(config), "--port", str(port), *extra, port=port, module=module)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop(timeout=15)


@pytest.fixture
def processes(tmp_path):
    running = Processes(tmp_path)
    yield running
    running.stop_all()


async def wait_ready(process: Process, timeout: float = 60.0) -> None:
    """Until /readyz answers 200 on the process's port (start-up done, database reachable)."""
    await until(lambda: _ready(process.port), timeout, f"{process.name} never became ready", process)


async def _ready(port: int) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def until(condition, timeout: float = 20.0, message: str = "condition not met in time",
                process: Process | None = None) -> None:
    """Poll an (async) condition; fail with the message (and the process's log) on timeout."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if process is not None and process.popen.poll() is not None:
            pytest.fail(f"{message}: {process.name} exited with {process.popen.returncode}\n{process.output()}")
        if loop.time() > deadline:
            pytest.fail(message + (f"\n{process.output()}" if process else ""))
        await asyncio.sleep(0.1)


class PortClient:
    """What WeChatClient needs from an HTTP client, pointed at one server port."""

    def __init__(self, http: aiohttp.ClientSession, port: int) -> None:
        self.http, self.base = http, f"http://127.0.0.1:{port}"

    async def post(self, path: str, **kwargs):
        return await self.http.post(self.base + path, **kwargs)


def wechat_for(config: Path, http: aiohttp.ClientSession, port: int) -> WeChatClient:
    """WeChat's servers, signing and encrypting for the config's account, posting to ``port``."""
    account = load_settings(config, environ={}).accounts[0]
    return WeChatClient(PortClient(http, port), account)
