"""The spool: messages accepted while the database is unreachable, kept on local disk.

WeChat retries a message only until it gets an answer, so a message that arrives while the
database restarts must not be answered and then forgotten. The endpoint answers such a message
at once ("收到，稍后回复"), appends it here (one JSON line, fsynced, per server process), and a
background task feeds the spooled messages through the normal dispatcher when the database is
back: dedup makes a message that WeChat also retried run once, and the real reply goes out as a
customer-service message. Replies that were sent but could not be recorded are spooled the same
way, so the thread and the delivery key are written later.

Each process writes its own file; replay first renames a file to claim it, so a process that
restarts (or a sibling) picks up what a dead process left, and no file is replayed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable

from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.events import IncomingEvent, Location
from storage.admission import Record

log = logging.getLogger("linli.spool")

CLAIMED = ".replaying"  # "<worker>.<pid>.<random>.replaying": claimed by a replaying process


def store_unavailable(exc: BaseException) -> bool:
    """Errors that mean "the database cannot be reached now", not "this write is wrong"."""
    if isinstance(exc, IntegrityError):
        return False
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or _looks_like_connection_loss(exc)
    return isinstance(exc, (OSError, asyncio.TimeoutError, ConnectionError))


def _looks_like_connection_loss(exc: DBAPIError) -> bool:
    text = f"{type(exc.orig).__name__} {exc.orig}".lower()
    return any(word in text for word in ("connection", "shutting down", "starting up", "terminat", "closed",
                                         "cannotconnect", "refused", "unable to open", "disk i/o"))


def spool_directory(settings) -> Path:
    """server.spool_dir, else a "spool" folder beside a SQLite database file, else var/spool."""
    if settings.server.spool_dir:
        return Path(settings.server.spool_dir)
    url = settings.database.url
    if url.startswith("sqlite") and ":///" in url and ":memory:" not in url:
        return Path(url.split(":///", 1)[1]).expanduser().resolve().parent / "spool"
    return Path("var/spool")


def event_to_dict(event: IncomingEvent) -> dict[str, Any]:
    data = asdict(event)
    data["link"] = dict(event.link) if event.link else None
    return data


def event_from_dict(data: dict[str, Any]) -> IncomingEvent:
    fields = dict(data)
    if fields.get("location"):
        fields["location"] = Location(**fields["location"])
    return IncomingEvent(**fields)


def record_to_dict(record: Record) -> dict[str, Any]:
    """A reply's record, without the resident's and dialog's ORM rows (a dialog step made while
    the database went away is lost; the resident is asked again)."""
    if record.changed_rows:
        log.warning("spooling the record of %s without its %d changed rows", record.key, len(record.changed_rows))
    data = {name: getattr(record, name) for name in Record.__dataclass_fields__ if name != "changed_rows"}
    data["now"] = record.now.isoformat()
    return data


def record_from_dict(data: dict[str, Any]) -> Record:
    fields = {name: data[name] for name in Record.__dataclass_fields__ if name in data}
    fields["now"] = datetime.fromisoformat(data["now"])
    return Record(**fields)


class Spool:
    def __init__(self, directory: str | Path, worker_id: str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"{_safe(worker_id)}.jsonl"

    def put(self, kind: str, payload: dict[str, Any]) -> None:
        """Append one entry durably (this only runs while the database is down)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"kind": kind, **payload}, ensure_ascii=False, default=_encode) + "\n"
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(line)
            file.flush()
            os.fsync(file.fileno())

    def pending(self) -> bool:
        return self.directory.is_dir() and any(self._files())

    async def replay(self, handle: Callable[[dict[str, Any]], Awaitable[None]]) -> int:
        """Feed every spooled entry to `handle`, oldest file first; stop at the first entry the
        database still refuses (it stays spooled). Returns how many were handled."""
        done = 0
        for path in self._claim_all():
            entries = _read(path)
            for index, entry in enumerate(entries):
                try:
                    await handle(entry)
                except Exception as exc:
                    self._give_back(path, entries[index:])
                    if not store_unavailable(exc):
                        log.exception("a spooled %s could not be replayed; kept in %s", entry.get("kind"), path)
                    return done
                done += 1
            path.unlink(missing_ok=True)
        return done

    def _files(self) -> list[Path]:
        return [*self.directory.glob("*.jsonl"), *self.directory.glob("*" + CLAIMED)]

    def _claim_all(self) -> list[Path]:
        """Rename every unclaimed file (and those of dead claimers) to a name of our own."""
        if not self.directory.is_dir():
            return []
        claimed = []
        for path in sorted(self._files(), key=_age):
            if path.name.endswith(CLAIMED) and _claimer(path) == os.getpid():
                claimed.append(path)
                continue
            if path.name.endswith(CLAIMED) and _alive(_claimer(path)):
                continue  # a live process is replaying it
            target = path.with_name(f"{path.name.split('.')[0]}.{os.getpid()}.{secrets.token_hex(4)}{CLAIMED}")
            with contextlib.suppress(FileNotFoundError):  # another process claimed it first
                path.rename(target)
                claimed.append(target)
        return claimed

    def _give_back(self, path: Path, remaining: list[dict[str, Any]]) -> None:
        """Keep what is left, under this process's claim, for the next round."""
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            for entry in remaining:
                file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            file.flush()
            os.fsync(file.fileno())
        temporary.replace(path)


def _read(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a crash mid-write: nothing was promised for it
            log.warning("skipping a torn line in %s", path)
    return entries


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _claimer(path: Path) -> int | None:
    """The pid in "<worker>.<pid>.<random>.replaying"."""
    try:
        return int(path.name.split(".")[-3])
    except (IndexError, ValueError):
        return None


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot spool {type(value).__name__}")
