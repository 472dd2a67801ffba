"""The per-message writes of the dispatcher, done for many messages at once (see group_commit).

Admitting a message: claim its delivery key, log it, find or create the resident, load their
conversation. Recording a reply: log it, mark the key done (with the reply, for retries), save
the resident's and the dialog's changes, queue a late reply in the outbox. Each is a handful of
multi-row statements per batch, built once per dialect and reused. The common items of a batch
are written on the database's own connection for them (Database.direct), outside SQLAlchemy:
on SQLite as plain sqlite3 statements in one synchronous transaction (storage.admission_sqlite,
storage.sqlite_direct), on PostgreSQL as one statement (storage.admission_pg). The rest — late
replies to queue, changed resident rows, and on PostgreSQL what one statement cannot hold —
goes through an SQLAlchemy transaction, which is equivalent (tests/test_admission_direct.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Sequence

from sqlalchemy import and_, bindparam, func, insert, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage import admission_pg as pg
from storage import admission_sqlite as lite
from storage import dedup, dialogs, outbox, turns
from storage.dedup import Seen
from storage.models import Conversation, MessageLog, ProcessedMessage, Resident

if TYPE_CHECKING:
    from storage.db import Database

PROCESSED = ProcessedMessage.__table__
RESIDENTS = Resident.__table__
LOG = MessageLog.__table__
LOG_COLUMNS = tuple(c.name for c in LOG.columns if c.name != "id")


@dataclass(slots=True)
class Arrival:
    """A delivery to admit."""

    community_id: int
    account: str
    key: str
    openid: str
    now: datetime
    log_fields: dict[str, Any]
    opens_window: bool  # a message from the resident (not e.g. unsubscribe) opens the 48-hour window
    media: bool = False  # a photo or a location (residents.last_media_at)
    worker: str | None = None  # this server process (storage.workers), so a retry can tell if it died
    turn_lease: timedelta | None = None  # take the resident's turn for this long (storage.turns); None: don't
    silent_after: timedelta | None = None  # a turn held by a process silent this long is free


@dataclass(slots=True)
class Admission:
    first: bool  # this delivery claimed the key; otherwise `earlier` says how the first attempt went
    earlier: Seen | None
    resident: Resident
    conversation: Conversation | None  # None: the resident has none yet
    has_turn: bool = True  # False: another process is handling one of this resident's messages


@dataclass(slots=True)
class Record:
    """How the reply to one delivery went out, and the rows the event changed."""

    community_id: int
    account: str
    key: str
    openid: str
    now: datetime
    delivery: str  # passive | outbox | none
    reply: dict[str, Any] | None  # kept for retries when passive
    log: dict[str, Any] | None  # the outbound log row (msg_type, content, delivery)
    outbox_message: dict[str, Any] | None = None  # kind + payload, when late
    changed_rows: list[Any] = field(default_factory=list)
    resident_id: int | None = None  # with worker: give the resident's turn back (storage.turns)
    worker: str | None = None


@dataclass(frozen=True, slots=True)
class _Statements:
    claim: Any
    touch_resident: Any
    finish: Any


@lru_cache(maxsize=None)
def _statements(dialect: str) -> _Statements:
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claim = (dialect_insert(PROCESSED).on_conflict_do_nothing(index_elements=["account", "dedup_key"])
             .returning(PROCESSED.c.account, PROCESSED.c.dedup_key))
    touch = dialect_insert(RESIDENTS)
    touch = touch.on_conflict_do_update(
        index_elements=["community_id", "openid"],
        set_={"last_inbound_at": func.coalesce(touch.excluded.last_inbound_at, RESIDENTS.c.last_inbound_at),
              "last_media_at": func.coalesce(touch.excluded.last_media_at, RESIDENTS.c.last_media_at)})
    finish = (update(PROCESSED)
              .where(PROCESSED.c.account == bindparam("b_account"), PROCESSED.c.dedup_key == bindparam("b_key"))
              .values(status="done", delivery=bindparam("b_delivery"), reply=bindparam("b_reply"),
                      finished_at=bindparam("b_now")))
    return _Statements(claim, touch, finish)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def admit_many(session: AsyncSession, arrivals: Sequence[Arrival]) -> list[Admission]:
    if _dialect(session) == "sqlite":
        return admit_sqlite(await lite.handle(session), arrivals)
    statements = _statements(_dialect(session))
    connection = await session.connection()
    claimed = await _claim(connection, statements, arrivals)
    firsts = [a for a in arrivals if (a.account, a.key) in claimed]
    if firsts:
        await connection.execute(insert(LOG), [_inbound_row(a) for a in firsts])
    residents_once = {(a.community_id, a.openid): a for a in arrivals}.values()  # PostgreSQL refuses a row twice
    await connection.execute(statements.touch_resident, [_resident_row(a) for a in residents_once])
    turns_taken = await _take_turns(session, [a for a in firsts if a.turn_lease is not None])
    residents = await _residents_and_conversations(session, arrivals)
    admissions = []
    for arrival in arrivals:
        first = (arrival.account, arrival.key) in claimed
        claimed.discard((arrival.account, arrival.key))  # a second copy in one batch is a retry
        earlier = None if first else await _seen(session, arrival)
        resident, conversation = residents[(arrival.community_id, arrival.openid)]
        admissions.append(Admission(first, earlier, resident, conversation,
                                    _has_turn(arrival, first, turns_taken)))
    return admissions


async def _take_turns(session: AsyncSession, arrivals: Sequence[Arrival]) -> set[tuple[int, str]]:
    taken: set[tuple[int, str]] = set()
    for (worker, lease, silent), group in _by_turn_terms(arrivals).items():
        taken |= await turns.take(session, keys=[(a.community_id, a.openid) for a in group], worker=worker,
                                  now=group[0].now, lease=lease, silent_after=silent)
    return taken


def _by_turn_terms(arrivals: Sequence[Arrival]) -> dict[tuple, list[Arrival]]:
    groups: dict[tuple, list[Arrival]] = {}
    for arrival in arrivals:
        groups.setdefault((arrival.worker, arrival.turn_lease, arrival.silent_after), []).append(arrival)
    return groups


def _has_turn(arrival: Arrival, first: bool, taken: set[tuple[int, str]]) -> bool:
    """Only a first delivery that will run the handler needs the resident's turn."""
    return not first or arrival.turn_lease is None or (arrival.community_id, arrival.openid) in taken


def admit_sqlite(db: sqlite3.Connection, arrivals: Sequence[Arrival]) -> list[Admission]:
    """admit_many on SQLite, as plain statements on the sqlite3 connection of a transaction."""
    claimed = {(a.account, a.key) for a in _unique_deliveries(arrivals)
               if lite.claim(db, a.community_id, a.account, a.key, a.now, a.worker)}
    lite.insert_logs(db, [_inbound_fields(a) for a in arrivals if (a.account, a.key) in claimed])
    by_resident: dict[tuple[int, str], list[Arrival]] = {}
    for arrival in arrivals:
        by_resident.setdefault((arrival.community_id, arrival.openid), []).append(arrival)
    residents, taken = {}, set()
    for key, same in by_resident.items():
        arrival = same[0]
        wanting = next((a for a in same if (a.account, a.key) in claimed and a.turn_lease is not None), None)
        turn = (wanting.worker, wanting.turn_lease, wanting.silent_after) if wanting and wanting.worker else None
        resident = residents[key] = lite.touch_resident(db, arrival.community_id, arrival.openid, arrival.now,
                                                        any(a.opens_window for a in same), any(a.media for a in same),
                                                        turn)
        if wanting and (turn is None or (resident.busy_worker == wanting.worker
                                         and resident.busy_until == arrival.now + wanting.turn_lease)):
            taken.add(key)
    conversations = lite.conversations_of(db, [resident.id for resident in residents.values()])
    admissions = []
    for arrival in arrivals:
        first = (arrival.account, arrival.key) in claimed
        claimed.discard((arrival.account, arrival.key))  # a second copy in one batch is a retry
        earlier = None if first else _seen_sqlite(db, arrival)
        resident = residents[(arrival.community_id, arrival.openid)]
        admissions.append(Admission(first, earlier, resident, conversations.get(resident.id),
                                    _has_turn(arrival, first, taken)))
    return admissions


def _unique_deliveries(arrivals: Sequence[Arrival]) -> list[Arrival]:
    return list({(a.account, a.key): a for a in arrivals}.values())


def _seen_sqlite(db, arrival: Arrival) -> Seen | None:
    row = lite.seen(db, arrival.account, arrival.key)
    return Seen(*row) if row else None


async def _claim(connection, statements: _Statements, arrivals: Sequence[Arrival]) -> set[tuple[str, str]]:
    rows = [{"community_id": a.community_id, "account": a.account, "dedup_key": a.key, "status": "running",
             "started_at": a.now, "worker": a.worker} for a in _unique_deliveries(arrivals)]
    result = await connection.execute(statements.claim, rows)
    return {(row.account, row.dedup_key) for row in result}


def _inbound_row(arrival: Arrival) -> dict[str, Any]:
    """Every column, as a multi-row insert through SQLAlchemy needs."""
    row = dict.fromkeys(LOG_COLUMNS)
    row.update(_inbound_fields(arrival))
    return row


def _inbound_fields(arrival: Arrival) -> dict[str, Any]:
    """Only the columns the message fills (enough for storage.admission_sqlite.insert_logs)."""
    return {**arrival.log_fields, "community_id": arrival.community_id, "openid": arrival.openid,
            "direction": "in", "created_at": arrival.now}


def _resident_row(arrival: Arrival) -> dict[str, Any]:
    return {"community_id": arrival.community_id, "openid": arrival.openid, "roles": [], "subscribed": True,
            "created_at": arrival.now, "last_inbound_at": arrival.now if arrival.opens_window else None,
            "last_media_at": arrival.now if arrival.media else None}


async def _residents_and_conversations(session: AsyncSession, arrivals: Sequence[Arrival]
                                       ) -> dict[tuple[int, str], tuple[Resident, Conversation | None]]:
    by_community: dict[int, set[str]] = {}
    for arrival in arrivals:
        by_community.setdefault(arrival.community_id, set()).add(arrival.openid)
    where = or_(*(and_(Resident.community_id == community, Resident.openid.in_(openids))
                  for community, openids in by_community.items()))
    rows = await session.execute(select(Resident, Conversation).outerjoin(
        Conversation, Conversation.resident_id == Resident.id).where(where))
    return {(resident.community_id, resident.openid): (resident, conversation) for resident, conversation in rows}


async def _seen(session: AsyncSession, arrival: Arrival) -> Seen | None:
    return await dedup.seen(session, account=arrival.account, key=arrival.key)


async def record_many(session: AsyncSession, records: Sequence[Record]) -> None:
    logs = [await _outbound_row(session, record) for record in records if record.log is not None]
    if _dialect(session) == "sqlite":
        _record_sqlite(await lite.handle(session), records, logs)
    else:
        holders = [(r.resident_id, r.worker) for r in records if r.resident_id is not None and r.worker]
        for worker in {w for _, w in holders}:
            await turns.give_back(session, resident_ids=[i for i, w in holders if w == worker], worker=worker)
        connection = await session.connection()
        if logs:
            await connection.execute(insert(LOG), logs)
        await connection.execute(_statements(_dialect(session)).finish, [
            {"b_account": r.account, "b_key": r.key, "b_delivery": r.delivery, "b_reply": r.reply, "b_now": r.now}
            for r in records])
    for record in records:
        for row in record.changed_rows:
            if isinstance(row, Conversation) and not inspect(row).has_identity:
                await dialogs.save_first_row(session, row, record.now)
            else:
                session.add(row)


def _record_sqlite(db: sqlite3.Connection, records: Sequence[Record], logs: Sequence[dict[str, Any]]) -> None:
    lite.insert_logs(db, logs)
    lite.finish(db, [(r.account, r.key, r.delivery, r.reply, r.now) for r in records])
    lite.give_back_turns(db, [(r.resident_id, r.worker) for r in records if r.resident_id is not None and r.worker])


async def _outbound_row(session: AsyncSession, record: Record) -> dict[str, Any]:
    outbox_id = await _queue_late(session, record) if record.outbox_message else None
    return _plain_outbound_row(record, outbox_id)


def _plain_outbound_row(record: Record, outbox_id: int | None = None) -> dict[str, Any]:
    row = dict.fromkeys(LOG_COLUMNS)
    row.update(_outbound_fields(record, outbox_id))
    return row


def _outbound_fields(record: Record, outbox_id: int | None = None) -> dict[str, Any]:
    return {**record.log, "community_id": record.community_id, "openid": record.openid, "direction": "out",
            "outbox_id": outbox_id, "created_at": record.now}


async def _queue_late(session: AsyncSession, record: Record) -> int | None:
    return await outbox.enqueue(session, community_id=record.community_id, account=record.account,
                                openid=record.openid, now=record.now, **record.outbox_message)


async def write_batch(db: "Database", items: Sequence[Arrival | Record]) -> list[Admission | None | Exception]:
    """Write a batch of admissions and records; results in the items' order.

    On PostgreSQL most of a batch is one statement (storage.admission_pg) and the rest one
    transaction; each part commits or fails alone, and an item of a failed part gets the
    exception as its result (storage.group_commit retries it on its own).
    """
    arrivals = [item for item in items if isinstance(item, Arrival)]
    records = [item for item in items if isinstance(item, Record)]
    plain_arrivals, plain_records = _plain_part(db, arrivals, records)
    plain = {id(item) for item in (*plain_arrivals, *plain_records)}
    results: dict[int, Admission | None | Exception] = {}
    rest_arrivals = [a for a in arrivals if id(a) not in plain]
    rest_records = [r for r in records if id(r) not in plain]
    if rest_arrivals or rest_records:
        await _in_parts(results, rest_arrivals, rest_records, _write_in_session(db, rest_arrivals, rest_records))
    if plain:
        await _in_parts(results, plain_arrivals, plain_records, _write_plainly(db, plain_arrivals, plain_records))
    return [results[id(item)] for item in items]


def _plain_part(db: "Database", arrivals: Sequence[Arrival], records: Sequence[Record]) -> tuple[list, list]:
    """The items the database's own connection can write without SQLAlchemy (db.direct): on
    PostgreSQL what one statement covers (storage.admission_pg.split); on SQLite every arrival
    and the records with no late reply to queue and no changed resident row to save."""
    if db.is_postgres:
        return pg.split(arrivals, records)
    return list(arrivals), [r for r in records if _plain_record(r)]


def _plain_record(record: Record) -> bool:
    return record.outbox_message is None and all(isinstance(row, Conversation) for row in record.changed_rows)


async def _in_parts(results: dict, arrivals: Sequence[Arrival], records: Sequence[Record], write) -> None:
    """Run one part's write; its items' results, or the part's exception for each of them."""
    try:
        admitted = await write
    except Exception as exc:
        results.update({id(item): exc for item in (*arrivals, *records)})
        return
    results.update({id(record): None for record in records})
    results.update({id(arrival): admission for arrival, admission in zip(arrivals, admitted, strict=True)})


async def _write_in_session(db: "Database", arrivals: Sequence[Arrival], records: Sequence[Record]) -> list[Admission]:
    """Records go first, so everything admitted in the same transaction sees the state they left."""
    async with db.sessions() as session, session.begin():
        if records:
            await record_many(session, records)
        return await admit_many(session, arrivals) if arrivals else []


async def _write_plainly(db: "Database", arrivals: Sequence[Arrival], records: Sequence[Record]) -> list[Admission]:
    if db.is_postgres:
        return await pg.write(db.direct, arrivals, records, [_inbound_row(a) for a in arrivals],
                              [_plain_outbound_row(r) for r in records if r.log is not None])
    return await db.direct.transaction(_write_plainly_sqlite, arrivals, records)


def _write_plainly_sqlite(db: sqlite3.Connection, arrivals: Sequence[Arrival], records: Sequence[Record]
                          ) -> list[Admission]:
    """Records first, as in the session path, so arrivals see the turns they gave back."""
    _record_sqlite(db, records, [_outbound_fields(r) for r in records if r.log is not None])
    lite.save_dialogs(db, [dialogs.changes(row, r.now) for r in records for row in r.changed_rows])
    return admit_sqlite(db, arrivals)
