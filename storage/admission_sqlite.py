"""The dispatcher's per-message writes on SQLite, run as plain sqlite3 statements.

Admitting and recording a message are a handful of tiny statements, run for every message the
account receives. Through SQLAlchemy each row's parameters pass through its type processors and
each statement through its execution context, which cost several times what SQLite itself
spends on them (bench/RESULTS.md, "Endpoint"). SQLite runs in the event loop on one connection
(storage.inline_sqlite), so these statements use that connection's sqlite3 handle directly,
inside the same transaction as everything else the batch does: prepared once by sqlite3's
statement cache, with the few conversions our column types need done here.

The rows read back (resident, conversation) become detached ORM objects, exactly as if a query
had loaded them, so handlers and the rest of storage see no difference. PostgreSQL keeps the
SQLAlchemy Core path in storage.admission.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable, Sequence

from sqlalchemy import JSON, Boolean, Table, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state

from storage.models import Conversation, MessageLog, Resident, UtcDateTime

UTC = timezone.utc


@lru_cache(maxsize=256)
def sql_time(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DateTime stores (always with microseconds), in UTC.

    Cached: a message's moment is written several times (its key, its log rows, the resident).
    Built from a cached text of its second: isoformat, and % with seven fields, were 5 % of the
    endpoint's instructions (bench/RESULTS.md, "Endpoint — Sixth session")."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)  # a naive value is local time, as astimezone takes it
    since = value - _EPOCH
    second = since.days * 86400 + since.seconds
    text = _SECONDS.get(second)
    if text is None:
        if len(_SECONDS) > 1024:
            _SECONDS.clear()
        text = _SECONDS[second] = "%04d-%02d-%02d %02d:%02d:%02d." % (
            value.year, value.month, value.day, value.hour, value.minute, value.second)
    return text + str(value.microsecond).zfill(6)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS: dict[int, str] = {}


def _read_time(value: str | None) -> datetime | None:
    """Stored times are UTC without an offset: parsed with one, no replace() afterwards."""
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def _read_json(value: str | None) -> Any:
    if value is None:
        return None
    empty = _EMPTY_JSON.get(value)  # most residents' roles, most dialogs' data
    return empty() if empty is not None else json.loads(value)


_EMPTY_JSON = {"[]": list, "{}": dict}


def _read_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _write_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _writer(column) -> Callable[[Any], Any]:
    """How a value of the column is stored: SQLAlchemy's text for times, JSON as text."""
    if isinstance(column.type, UtcDateTime):
        return sql_time
    if isinstance(column.type, JSON):
        return _write_json
    return lambda value: value


def _reader(column) -> Callable[[Any], Any] | None:
    if isinstance(column.type, UtcDateTime):
        return _read_time
    if isinstance(column.type, JSON):
        return _read_json
    if isinstance(column.type, Boolean):
        return _read_bool
    return None


class RowLoader:
    """Turns a row of one table, selected in column order, into a detached ORM object.

    `convert`: read SQLite's text times and JSON; asyncpg hands out the Python values already."""

    def __init__(self, entity: type, *, convert: bool = True) -> None:
        table: Table = entity.__table__
        self.names = tuple(c.name for c in table.columns)
        readers = ((c.name, _reader(c)) for c in table.columns) if convert else ()
        self.readers = tuple((name, read) for name, read in readers if read)  # only the columns that need one
        self.columns = ", ".join(self.names)
        self.manager = entity._sa_class_manager
        self.mapper = inspect(entity)
        [self.key_name] = [c.name for c in table.primary_key.columns]

    def load(self, row: Sequence[Any]) -> Any:
        obj = self.manager.new_instance()
        values = obj.__dict__  # filled in place: the instance's own dict is where a query puts them too
        values.update(zip(self.names, row))
        for name, read in self.readers:
            value = values[name]
            if value is not None:
                values[name] = read(value)
        # Detached with its identity, no history: as if a query had loaded it. What
        # make_transient_to_detached does, less its scan for attributes to expire (every column
        # is here), which was half the cost of a load.
        instance_state(obj).key = self.mapper.identity_key_from_primary_key([values[self.key_name]])
        return obj


_NO_TIME = timedelta(0)
RESIDENT = RowLoader(Resident)
CONVERSATION = RowLoader(Conversation)

CLAIM = ("INSERT INTO processed_messages (community_id, account, dedup_key, status, started_at, worker) "
         "VALUES (?, ?, ?, 'running', ?, ?) ON CONFLICT (account, dedup_key) DO NOTHING")
_LOG_WRITERS = {c.name: _writer(c) for c in MessageLog.__table__.columns
                if c.name == "created_at" or isinstance(c.type, JSON)}  # the columns that need converting
# Find or create the resident, note when they last wrote and sent media, and — for a message that
# will be handled — take their turn if it is free (storage.turns.take's rule), all in one upsert.
_FREE = ("residents.busy_worker IS NULL OR residents.busy_worker = excluded.busy_worker OR residents.busy_until < :now "
         "OR residents.busy_worker IN (SELECT id FROM server_workers WHERE seen_at < :silent_before)")
TOUCH_RESIDENT = (
    "INSERT INTO residents (community_id, openid, roles, subscribed, created_at, last_inbound_at, last_media_at, "
    "busy_worker, busy_until) VALUES (:community_id, :openid, '[]', 1, :now, :inbound, :media, :worker, :until) "
    "ON CONFLICT (community_id, openid) DO UPDATE SET "
    "last_inbound_at = coalesce(excluded.last_inbound_at, residents.last_inbound_at), "
    "last_media_at = coalesce(excluded.last_media_at, residents.last_media_at), "
    f"busy_worker = CASE WHEN excluded.busy_worker IS NOT NULL AND ({_FREE}) THEN excluded.busy_worker "
    "ELSE residents.busy_worker END, "
    f"busy_until = CASE WHEN excluded.busy_worker IS NOT NULL AND ({_FREE}) THEN excluded.busy_until "
    f"ELSE residents.busy_until END RETURNING {RESIDENT.columns}")
SEEN = ("SELECT m.status, m.delivery, m.reply, m.started_at, w.seen_at FROM processed_messages m "
        "LEFT JOIN server_workers w ON w.id = m.worker WHERE m.account = ? AND m.dedup_key = ?")
GIVE_BACK_TURN = "UPDATE residents SET busy_worker = NULL, busy_until = NULL WHERE id = ? AND busy_worker = ?"
FINISH = ("UPDATE processed_messages SET status = 'done', delivery = ?, reply = ?, finished_at = ? "
          "WHERE account = ? AND dedup_key = ?")


async def handle(session: AsyncSession) -> sqlite3.Connection:
    """The sqlite3 connection under the session's transaction (begun if it was not yet)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection.sqlite


def claim(db: sqlite3.Connection, community_id: int, account: str, key: str, now: datetime,
          worker: str | None) -> bool:
    return db.execute(CLAIM, (community_id, account, key, sql_time(now), worker)).rowcount == 1


def touch_resident(db: sqlite3.Connection, community_id: int, openid: str, now: datetime, opens_window: bool,
                   media: bool = False, turn: tuple[str, timedelta, timedelta] | None = None) -> Resident:
    """Find or create the resident (noting when they last wrote, and sent media) and return the
    row as an object; `turn` (worker, lease, silent_after): take their turn if it is free — the
    row then names that worker until now + lease."""
    stamp = sql_time(now)
    worker, lease, silent_after = turn or (None, _NO_TIME, _NO_TIME)
    row = db.execute(TOUCH_RESIDENT, {
        "community_id": community_id, "openid": openid, "now": stamp, "inbound": stamp if opens_window else None,
        "media": stamp if media else None, "worker": worker, "until": sql_time(now + lease) if turn else None,
        "silent_before": sql_time(now - silent_after)}).fetchone()
    return RESIDENT.load(row)


def give_back_turns(db: sqlite3.Connection, holders: Sequence[tuple[int, str]]) -> None:
    if holders:
        db.executemany(GIVE_BACK_TURN, holders)


def conversations_of(db: sqlite3.Connection, resident_ids: Sequence[int]) -> dict[int, Conversation]:
    if not resident_ids:
        return {}
    marks = ", ".join("?" for _ in resident_ids)
    rows = db.execute(f"SELECT {CONVERSATION.columns} FROM conversations WHERE resident_id IN ({marks})",
                      tuple(resident_ids)).fetchall()
    conversations = (CONVERSATION.load(row) for row in rows)
    return {conversation.resident_id: conversation for conversation in conversations}


def seen(db: sqlite3.Connection, account: str, key: str) -> tuple | None:
    row = db.execute(SEEN, (account, key)).fetchone()
    if row is None:
        return None
    status, delivery, reply, started_at, worker_seen_at = row
    return status, delivery, _read_json(reply), _read_time(started_at), _read_time(worker_seen_at)


def finish(db: sqlite3.Connection, rows: Sequence[tuple[str, str, str, dict | None, datetime]]) -> None:
    """Mark keys done: (account, key, delivery, reply, now) each."""
    db.executemany(FINISH, [(delivery, _reply_json(reply), sql_time(now), account, key)
                            for account, key, delivery, reply, now in rows])


def _reply_json(reply: dict | None) -> str | None:
    """Most replies are one of a few fixed texts (the greeting, the menu, prompts): their JSON is
    made once. A reply that cannot be a cache key is encoded each time."""
    if reply is None:
        return None
    try:
        return _json_of(tuple(reply.items()))
    except TypeError:
        return json.dumps(reply)


@lru_cache(maxsize=256)
def _json_of(items: tuple) -> str:
    return json.dumps(dict(items))


def insert_logs(db: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Each row with only the columns it fills (the others have no default: NULL either way);
    `rows` name columns of message_log, in any subset. sqlite3 binds a None through its
    adaptation protocol, raising and clearing an exception each time: with a message's ten or
    so empty columns that was most of the insert's cost."""
    shapes: dict[tuple[str, ...], list[list]] = {}
    for fields in rows:
        names, values = [], []
        for name, value in fields.items():
            if value is not None:
                names.append(name)
                write = _LOG_WRITERS.get(name)
                values.append(value if write is None else write(value))
        shapes.setdefault(tuple(names), []).append(values)
    for names, batch in shapes.items():
        db.executemany(_insert_log(names), batch)


@lru_cache(maxsize=64)
def _insert_log(names: tuple[str, ...]) -> str:
    return f"INSERT INTO message_log ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"


_DIALOG_COLUMNS = tuple(c for c in Conversation.__table__.columns if c.name != "id")
_DIALOG_WRITERS = {c.name: _writer(c) for c in _DIALOG_COLUMNS}
INSERT_DIALOG = (f"INSERT INTO conversations ({', '.join(c.name for c in _DIALOG_COLUMNS)}) "
                 f"VALUES ({', '.join('?' for _ in _DIALOG_COLUMNS)}) ON CONFLICT (resident_id) DO UPDATE SET "
                 + ", ".join(f"{c.name} = excluded.{c.name}" for c in _DIALOG_COLUMNS
                             if c.name not in ("community_id", "resident_id")))  # see storage.dialogs


def save_dialogs(db: sqlite3.Connection, changes: Sequence[dict[str, Any]]) -> None:
    """Dialog rows the handlers changed (storage.dialogs.changes): the changed columns of a
    saved row, a first row whole (replacing one saved meanwhile, as storage.dialogs does)."""
    for change in changes:
        if change["id"] is None:
            db.execute(INSERT_DIALOG, tuple(_DIALOG_WRITERS[c.name](change[c.name]) for c in _DIALOG_COLUMNS))
            continue
        names = [name for name in change["changed"] if name != "updated_at"] + ["updated_at"]
        db.execute(f"UPDATE conversations SET {', '.join(f'{name} = ?' for name in names)} WHERE id = ?",
                   (*(_DIALOG_WRITERS[name](change[name]) for name in names), change["id"]))
