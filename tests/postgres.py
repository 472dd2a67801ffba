"""A throwaway PostgreSQL for tests (a pytest plugin, registered in tests/conftest.py).

``pg_url`` gives a test a freshly migrated database of its own: the session starts one cluster
from the machine's PostgreSQL binaries (initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin)
in a temporary directory — in memory (/dev/shm) when there is room, so other processes' disk
writes on a shared machine do not slow it down; fsync off, a free loopback port, its unix socket
in that directory —
migrates a template database once with storage.migrate, and each test gets
``CREATE DATABASE … TEMPLATE`` of it (a file copy of about 10 MB: some 30 ms in memory, up to
0.5 s on a busy disk). A thread of its own (DatabaseStock) makes the next copies ahead and drops
used ones behind, so a test waits for neither. The cluster is stopped and deleted when the session ends.

PostgreSQL refuses to run as root; in a root container (CI) the server runs as the ``postgres``
user (or ``nobody``). Missing binaries fail the tests that need them with a message saying what
to install: they are never skipped, since this is the production database.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import os
import pwd
import queue
import re
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.migrate import upgrade

SUPERUSER = "linli"
TEMPLATE = "linli_template"


def postgres_bin_dir() -> Path:
    """The directory holding initdb, pg_ctl and psql of one PostgreSQL version."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
    if versions:
        return Path(versions[-1]).parent
    pytest.fail("PostgreSQL is needed for these tests: no initdb on PATH or under /usr/lib/postgresql/*/bin "
                "(Debian/Ubuntu: apt-get install postgresql)", pytrace=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cluster_parent() -> str | None:
    """Where the cluster's directory goes: /dev/shm when it has room (a container's default of
    64 MB has not), else the usual temporary directory."""
    shm = "/dev/shm"
    try:
        roomy = os.access(shm, os.W_OK) and shutil.disk_usage(shm).free >= 1 << 30
    except OSError:
        return None
    return shm if roomy else None


def _server_user() -> pwd.struct_passwd | None:
    """Who runs the server: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.fail("running as root and there is no 'postgres' or 'nobody' user to run PostgreSQL as", pytrace=False)


@dataclass
class Cluster:
    bin_dir: Path
    root: Path
    port: int
    user: pwd.struct_passwd | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def run(self, program: str, *args: str) -> str:
        """Run a PostgreSQL program as the server's user; a failure shows its output."""
        ids = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []} if self.user else {}
        result = subprocess.run([str(self.bin_dir / program), *args], check=False, capture_output=True, text=True,
                                cwd=self.root, env={**os.environ, "LC_ALL": "C"}, **ids)
        if result.returncode != 0:
            raise RuntimeError(f"{program} {' '.join(args)} failed ({result.returncode}):\n"
                               f"{result.stdout}\n{result.stderr}")
        return result.stdout

    def sql(self, statement: str) -> str:
        return self.run("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                        "-U", SUPERUSER, "-d", "postgres", "-c", statement)

    def start(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C",
                 "--no-sync")
        self.resume()

    def _options(self) -> str:
        return (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")

    def halt(self) -> None:
        """Stop the server (fast shutdown, as a restart does) but keep its data."""
        self.run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")

    def resume(self) -> None:
        self.run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.root / "server.log"),
                 "-o", self._options())

    def stop(self) -> None:
        try:
            self.run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster():
    """Start a cluster with a migrated template database; stop and delete it afterwards."""
    user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="linli-pg-", dir=_cluster_parent()))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    cluster = Cluster(postgres_bin_dir(), root, _free_port(), user)
    try:
        cluster.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        cluster.sql(f"CREATE DATABASE {TEMPLATE}")
        upgrade(cluster.url(TEMPLATE))
        yield cluster
    finally:
        cluster.stop()


class DatabaseStock:
    """Fresh copies of the template, made ahead of the tests that take them and dropped after
    them by a thread of its own over one connection (no psql process per statement), so creating
    and dropping overlap with running the tests instead of adding to each one.

    A used database is dropped once its test's teardown has finished (pytest_runtest_teardown
    below), not at pg_url's own teardown: fixtures set up before pg_url — such as aiohttp_client,
    whose app may still be running an outbox worker on the database — are torn down after it."""

    def __init__(self, cluster: Cluster, ahead: int = 2) -> None:
        self.cluster = cluster
        self._names = itertools.count(1)
        self._commands: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._ready: queue.Queue[str | BaseException] = queue.Queue()
        self._retired: list[str] = []
        for _ in range(ahead):
            self._order_one()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), name="pg-stock", daemon=True)
        self._thread.start()

    def take(self) -> str:
        """The name of a fresh database (waiting for it if none is ready yet)."""
        made = self._ready.get(timeout=120)
        if isinstance(made, BaseException):
            self._ready.put(made)  # every later test fails the same way
            raise RuntimeError("could not make a test database") from made
        self._order_one()
        return made

    def give_back(self, name: str) -> None:
        """The test is done with it; dropped at drop_retired()."""
        self._retired.append(name)

    def drop_retired(self) -> None:
        while self._retired:
            self._commands.put(("drop", self._retired.pop()))

    def close(self) -> None:
        self._commands.put(None)
        self._thread.join(timeout=60)

    def _order_one(self) -> None:
        self._commands.put(("create", f"linli_test_{os.getpid()}_{next(self._names)}"))

    async def _serve(self) -> None:
        import asyncpg

        try:
            connection = await asyncpg.connect(host="127.0.0.1", port=self.cluster.port, user=SUPERUSER,
                                               database="postgres")
            try:
                while (command := self._commands.get()) is not None:
                    await self._run(connection, *command)
            finally:
                await connection.close()
        except BaseException as error:  # shown by the next take()
            self._ready.put(error)

    async def _run(self, connection, action: str, name: str) -> None:
        if action == "create":
            # FILE_COPY (PostgreSQL 15+; before, the only way) copies the files, where WAL_LOG,
            # 15's default, writes each block through the WAL as well.
            strategy = " STRATEGY FILE_COPY" if connection.get_server_version() >= (15,) else ""
            await connection.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}{strategy}")
            self._ready.put(name)
        else:
            await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def pg_cluster():
    """A running cluster with a migrated template database; stopped at the end of the session."""
    with running_cluster() as cluster:
        yield cluster


_STOCK = pytest.StashKey[DatabaseStock]()


@pytest.fixture(scope="session")
def pg_stock(request, pg_cluster):
    stock = DatabaseStock(pg_cluster)
    request.config.stash[_STOCK] = stock
    yield stock
    del request.config.stash[_STOCK]
    stock.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    """After every fixture of the test is torn down, drop the databases it used."""
    yield
    stock = item.config.stash.get(_STOCK, None)
    if stock is not None:
        stock.drop_retired()


@pytest.fixture
def own_pg_cluster():
    """A cluster of this test's own, for tests that stop and restart the server."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster, pg_stock):
    """A freshly migrated PostgreSQL database for this test (dropped afterwards)."""
    name = pg_stock.take()
    yield pg_cluster.url(name)
    pg_stock.give_back(name)
