"""The dispatcher's per-message writes on PostgreSQL, as one statement per batch.

A round trip to PostgreSQL costs this process more CPU than the statement costs the server
(a `SELECT 1` ~0.15 ms of client CPU, an empty SQLAlchemy transaction ~0.8 ms: bench/RESULTS.md,
"Load"), and admitting and recording a batch through SQLAlchemy took a dozen of them: BEGIN,
claim, inbound log, resident upsert, turns, the resident and dialog rows, outbound log, finish,
COMMIT. Here the whole batch is one statement of data-modifying CTEs, which PostgreSQL runs
atomically without BEGIN and COMMIT: its rows go in as JSON documents (so the SQL is the same
for every batch size and asyncpg prepares it once), and the admitted residents and dialogs come
back in the same answer. It runs on the process's own connection (storage.pg_direct), not
through SQLAlchemy's pool and execution context, which cost more than the statement.

It covers the common items (`split`): records with no late reply to queue and at most a changed
dialog to save (only the columns the handler changed are written, as the ORM would), arrivals
of distinct residents with one set of turn terms. The others in a batch take storage.admission's
SQLAlchemy path, which is equivalent, in a transaction of their own.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any, Sequence

from sqlalchemy.dialects import postgresql

from storage import dialogs
from storage.admission_sqlite import RowLoader
from storage.dedup import Seen
from storage.models import Conversation, MessageLog, Resident
from storage.pg_direct import DirectConnection

RESIDENT = RowLoader(Resident, convert=False)
CONVERSATION = RowLoader(Conversation, convert=False)
_LOG_NAMES = tuple(c.name for c in MessageLog.__table__.columns if c.name != "id")
LOG_COLUMNS = ", ".join(_LOG_NAMES)
_LOGGED = ", ".join(f"l.{name}" for name in _LOG_NAMES)
_DIALOG_NAMES = tuple(c.name for c in Conversation.__table__.columns if c.name != "id")
_DIALOG_RECORD = ", ".join(f"{c.name} {c.type.compile(dialect=postgresql.dialect())}"
                           for c in Conversation.__table__.columns)
_DIALOG_SET = ", ".join(f"{name} = CASE WHEN d.changed ? '{name}' THEN d.{name} ELSE c.{name} END"
                        for name in _DIALOG_NAMES if name != "updated_at")
_DIALOG_REPLACE = ", ".join(f"{name} = excluded.{name}" for name in _DIALOG_NAMES
                            if name not in ("community_id", "resident_id"))  # see storage.dialogs
_RESIDENT_OUT = ", ".join(f"t.{name} AS r_{name}" for name in RESIDENT.names)
_CONVERSATION_OUT = ", ".join(f"c.{name} AS c_{name}" for name in CONVERSATION.names)

# The batch statement's connection (storage.pg_direct) plans with index lookups and nested loops
# only. Every row the statement touches is found by a key, a handful per batch; but asyncpg
# prepares it once per connection and PostgreSQL keeps a generic plan made with the statistics
# of that moment, taking each JSON document for 100 rows. Prepared on a young database, the plan
# hash-joined whole tables: processed_messages scanned for every batch, 4 ms once it held 20,000
# keys and growing, until an ANALYZE happened to replan it.
CONNECTION_SETUP = ("SET enable_seqscan = off", "SET enable_hashjoin = off", "SET enable_mergejoin = off")

# $1 arrivals, $2 their inbound log rows (same order), $3 now, $4 silent workers' cut-off,
# $5 turns to give back, $6 outbound log rows, $7 keys to finish, $8 dialogs changed by the handlers.
_FREE = ("r.busy_worker IS NULL OR r.busy_worker = excluded.busy_worker OR r.busy_until < $3::timestamptz "
         "OR r.busy_worker IN (SELECT id FROM server_workers WHERE seen_at < $4::timestamptz)")
BATCH = f"""
WITH arrivals AS (
    SELECT * FROM json_to_recordset($1::json) AS a(n int, community_id int, account text, dedup_key text,
        openid text, now timestamptz, worker text, opens bool, media bool, lease_until timestamptz)
), claimed AS (
    INSERT INTO processed_messages (community_id, account, dedup_key, status, started_at, worker)
    SELECT community_id, account, dedup_key, 'running', now, worker FROM arrivals
    ON CONFLICT (account, dedup_key) DO NOTHING
    RETURNING account, dedup_key
), firsts AS (
    SELECT a.* FROM arrivals a JOIN claimed USING (account, dedup_key)
), inbound AS (
    INSERT INTO message_log ({LOG_COLUMNS})
    SELECT {_LOGGED} FROM json_populate_recordset(NULL::message_log, $2::json) WITH ORDINALITY AS l
    JOIN firsts f ON f.n = l.ordinality
), touched AS (
    INSERT INTO residents AS r (community_id, openid, roles, subscribed, created_at, last_inbound_at,
                                last_media_at, busy_worker, busy_until)
    SELECT a.community_id, a.openid, '[]'::json, true, a.now, CASE WHEN a.opens THEN a.now END,
           CASE WHEN a.media THEN a.now END,
           CASE WHEN f.n IS NOT NULL THEN f.worker END, CASE WHEN f.n IS NOT NULL THEN f.lease_until END
    FROM arrivals a LEFT JOIN firsts f ON f.n = a.n AND f.lease_until IS NOT NULL
    ON CONFLICT (community_id, openid) DO UPDATE SET
        last_inbound_at = coalesce(excluded.last_inbound_at, r.last_inbound_at),
        last_media_at = coalesce(excluded.last_media_at, r.last_media_at),
        busy_worker = CASE WHEN excluded.busy_worker IS NOT NULL AND ({_FREE}) THEN excluded.busy_worker
                           ELSE r.busy_worker END,
        busy_until = CASE WHEN excluded.busy_worker IS NOT NULL AND ({_FREE}) THEN excluded.busy_until
                          ELSE r.busy_until END
    RETURNING r.*
), given_back AS (
    UPDATE residents r SET busy_worker = NULL, busy_until = NULL
    FROM json_to_recordset($5::json) AS g(id int, worker text)
    WHERE r.id = g.id AND r.busy_worker = g.worker
), outbound AS (
    INSERT INTO message_log ({LOG_COLUMNS})
    SELECT {LOG_COLUMNS} FROM json_populate_recordset(NULL::message_log, $6::json)
), finished AS (
    UPDATE processed_messages p SET status = 'done', delivery = f.delivery, reply = f.reply, finished_at = f.now
    FROM json_to_recordset($7::json) AS f(account text, dedup_key text, delivery text, reply json, now timestamptz)
    WHERE p.account = f.account AND p.dedup_key = f.dedup_key
), dialogs AS (
    SELECT * FROM json_to_recordset($8::json) AS d({_DIALOG_RECORD}, changed jsonb)
), new_dialogs AS (
    INSERT INTO conversations AS c ({", ".join(_DIALOG_NAMES)})
    SELECT {", ".join(_DIALOG_NAMES)} FROM dialogs WHERE id IS NULL
    ON CONFLICT (resident_id) DO UPDATE SET {_DIALOG_REPLACE}
), changed_dialogs AS (
    UPDATE conversations c SET {_DIALOG_SET}, updated_at = d.updated_at
    FROM dialogs d WHERE c.id = d.id
)
SELECT a.n, f.n IS NOT NULL AS first, {_RESIDENT_OUT}, {_CONVERSATION_OUT},
       p.status AS p_status, p.delivery AS p_delivery, p.reply AS p_reply, p.started_at AS p_started_at,
       w.seen_at AS p_seen_at
FROM arrivals a
LEFT JOIN firsts f ON f.n = a.n
JOIN touched t ON t.community_id = a.community_id AND t.openid = a.openid
LEFT JOIN conversations c ON c.resident_id = t.id
LEFT JOIN processed_messages p ON f.n IS NULL AND p.account = a.account AND p.dedup_key = a.dedup_key
LEFT JOIN server_workers w ON w.id = p.worker
"""


def split(arrivals: Sequence, records: Sequence) -> tuple[list, list]:
    """The part of a batch one statement can write: (arrivals, records). The rest — records with
    a late reply to queue or a changed resident row to save, arrivals of a resident or key met twice in the batch or
    with other turn terms than the first, residents both recorded and admitted — is left to
    storage.admission's SQLAlchemy path, which is equivalent."""
    plain_records = [r for r in records
                     if r.outbox_message is None and all(isinstance(row, Conversation) for row in r.changed_rows)]
    residents = Counter((a.community_id, a.openid) for a in arrivals)
    keys = Counter((a.account, a.key) for a in arrivals)
    terms = next(((a.worker, a.turn_lease, a.silent_after) for a in arrivals if a.turn_lease is not None), None)
    recorded = {(r.community_id, r.openid) for r in plain_records}
    plain_arrivals = [a for a in arrivals
                      if residents[(a.community_id, a.openid)] == 1 and keys[(a.account, a.key)] == 1
                      and (a.community_id, a.openid) not in recorded
                      and (a.turn_lease is None or ((a.worker, a.turn_lease, a.silent_after) == terms and a.worker))]
    return plain_arrivals, plain_records


async def write(connection: DirectConnection, arrivals: Sequence, records: Sequence,
                inbound_rows: Sequence[dict[str, Any]], outbound_rows: Sequence[dict[str, Any]]) -> list:
    """Run the batch; returns storage.admission.Admission values for the arrivals, in order."""
    from storage.admission import Admission  # storage.admission imports this module

    now, silent_before = _turn_times(arrivals)
    # One statement is atomic on its own, so it runs without BEGIN and COMMIT, on the process's
    # own connection (storage.pg_direct).
    rows = await connection.fetch(
        BATCH, _json([_arrival(n, a) for n, a in enumerate(arrivals, 1)]), _json(inbound_rows), now, silent_before,
        _json([{"id": r.resident_id, "worker": r.worker} for r in records if r.resident_id is not None and r.worker]),
        _json(outbound_rows),
        _json([{"account": r.account, "dedup_key": r.key, "delivery": r.delivery, "reply": r.reply, "now": r.now}
               for r in records]),
        _json([dialogs.changes(row, r.now) for r in records for row in r.changed_rows]))
    by_arrival = {row["n"]: row for row in rows}
    admissions = []
    for n, arrival in enumerate(arrivals, 1):
        row = by_arrival[n]
        resident = RESIDENT.load([row[f"r_{name}"] for name in RESIDENT.names])
        conversation = (CONVERSATION.load([row[f"c_{name}"] for name in CONVERSATION.names])
                        if row["c_id"] is not None else None)
        earlier = None if row["first"] or row["p_status"] is None else Seen(
            row["p_status"], row["p_delivery"], row["p_reply"], row["p_started_at"], row["p_seen_at"])
        admissions.append(Admission(row["first"], earlier, resident, conversation,
                                    _has_turn(arrival, row["first"], resident)))
    return admissions


def _turn_times(arrivals: Sequence) -> tuple[datetime | None, datetime | None]:
    """The moment turns are judged at and before which a silent worker counts as dead (one set
    of terms per batch: storage.turns.take judges a batch at its first arrival's time too)."""
    wanting = [a for a in arrivals if a.turn_lease is not None]
    if not wanting:
        return None, None
    return wanting[0].now, wanting[0].now - wanting[0].silent_after


def _arrival(n: int, arrival) -> dict[str, Any]:
    lease_until = arrival.now + arrival.turn_lease if arrival.turn_lease is not None else None
    return {"n": n, "community_id": arrival.community_id, "account": arrival.account, "dedup_key": arrival.key,
            "openid": arrival.openid, "now": arrival.now, "worker": arrival.worker, "opens": arrival.opens_window,
            "media": arrival.media,
            "lease_until": lease_until}


def _has_turn(arrival, first: bool, resident: Resident) -> bool:
    """A first delivery wanting the turn got it when the row now names this worker and lease."""
    if not first or arrival.turn_lease is None:
        return True
    return resident.busy_worker == arrival.worker and resident.busy_until == arrival.now + arrival.turn_lease


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")
