"""Admitting and recording a batch on the database's own connection — on PostgreSQL one statement
(storage/admission_pg.py), on SQLite plain statements (storage/admission_sqlite.py,
storage/sqlite_direct.py) — and through the SQLAlchemy path it stands in for give the same
admissions and leave the same rows: new and known residents, dialogs, a retry of a key already
claimed, turns held by a live process, by a silent one, given back. Items the direct path does
not cover go the other way."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from storage import admission, admission_pg, communities
from storage.admission import Arrival, Record
from storage.db import Database
from storage.models import Conversation, MessageLog, ProcessedMessage, Resident, ServerWorker

pytestmark = pytest.mark.backend_specific

T = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
LEASE, SILENT = timedelta(seconds=30), timedelta(seconds=5)


@pytest.fixture(params=["direct", "sqlalchemy"])
def path(request, monkeypatch):
    """Which path writes the batches; the direct path must actually take every item."""
    plain_part = admission._plain_part
    left_over = []

    def direct(db, arrivals, records):
        plain_arrivals, plain_records = plain_part(db, arrivals, records)
        left_over.extend(set(map(id, (*arrivals, *records))) - set(map(id, (*plain_arrivals, *plain_records))))
        return plain_arrivals, plain_records
    monkeypatch.setattr(admission, "_plain_part", direct if request.param == "direct"
                        else lambda db, arrivals, records: ([], []))
    yield request.param
    assert left_over == []


@pytest.fixture(params=["postgresql", "sqlite"])
def world_url(request) -> str:
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url")


@pytest.fixture
async def world(world_url):
    async for made in _world(world_url):
        yield made


@pytest.fixture
async def pg_world(pg_url):
    async for made in _world(pg_url):
        yield made


async def _world(url):
    db = Database(url)
    async with db.sessions.begin() as session:
        community = (await communities.ensure(session, [("test", "测试社区")]))["test"]
        session.add_all([ServerWorker(id="w_live", started_at=T, seen_at=T),
                         ServerWorker(id="w_dead", started_at=T - timedelta(hours=2), seen_at=T - timedelta(hours=1))])
        busy = {"o_b": "w_live", "o_c": "w_dead"}
        residents = {openid: Resident(community_id=community, openid=openid, roles=[], subscribed=True,
                                      busy_worker=busy.get(openid), busy_until=T + LEASE if openid in busy else None,
                                      last_inbound_at=T - timedelta(days=1))
                     for openid in ("o_a", "o_b", "o_c", "o_d")}
        session.add_all(residents.values())
        await session.flush()
        session.add(Conversation(community_id=community, resident_id=residents["o_a"].id, state="intake:repair:place",
                                 data={"draft": {"text": "灯坏了"}}, handoff=False, misunderstood=1))
        session.add(ProcessedMessage(community_id=community, account="acc", dedup_key="k_old", status="running",
                                     started_at=T - timedelta(seconds=1), worker="w_live"))
    yield db, community
    await db.dispose()


def _arrival(community, openid, key, *, opens=True, now=T, media=False):
    return Arrival(community_id=community, account="acc", key=key, openid=openid, now=now,
                   log_fields={"msg_type": "image" if media else "text", "content": f"说的是{key}",
                               "wechat_msg_id": key, "extra": None},
                   opens_window=opens, media=media, worker="w_me", turn_lease=LEASE, silent_after=SILENT)


def _record(community, openid, key, resident_id):
    return Record(community_id=community, account="acc", key=key, openid=openid, now=T + timedelta(seconds=1),
                  delivery="passive", reply={"type": "text", "content": "好的"},
                  log={"msg_type": "text", "content": "好的", "delivery": "passive"},
                  resident_id=resident_id, worker="w_me")


async def _rows(db):
    async with db.sessions() as session:
        keys = {p.dedup_key: (p.status, p.delivery, p.reply, p.worker)
                for p in await session.scalars(select(ProcessedMessage))}
        logs = sorted((m.openid, m.direction, m.content, m.wechat_msg_id, m.delivery)
                      for m in await session.scalars(select(MessageLog)))
        residents = {r.openid: (r.busy_worker, r.last_inbound_at) for r in await session.scalars(select(Resident))}
    return keys, logs, residents


async def test_a_batch_of_arrivals_then_their_records(world, path):
    db, community = world
    admitted = await admission.write_batch(db, [
        _arrival(community, "o_a", "k1"), _arrival(community, "o_b", "k2"), _arrival(community, "o_c", "k3"),
        _arrival(community, "o_d", "k_old"), _arrival(community, "o_e", "k5", opens=False)])
    a, b, c, d, e = admitted
    assert [x.first for x in admitted] == [True, True, True, False, True]
    assert [x.has_turn for x in admitted] == [True, False, True, True, True]  # B's turn is a live process's
    assert a.conversation.state == "intake:repair:place" and a.conversation.data == {"draft": {"text": "灯坏了"}}
    assert a.conversation.misunderstood == 1 and b.conversation is None
    assert a.resident.openid == "o_a" and a.resident.roles == [] and a.resident.last_inbound_at == T
    assert d.earlier.status == "running" and d.earlier.worker_seen_at == T and d.earlier.started_at < T
    assert e.resident.id is not None and e.resident.last_inbound_at is None and e.resident.subscribed

    keys, logs, residents = await _rows(db)
    assert {k: v[0] for k, v in keys.items()} == {"k_old": "running", "k1": "running", "k2": "running",
                                                  "k3": "running", "k5": "running"}
    assert keys["k1"][3] == "w_me" and keys["k_old"][3] == "w_live"
    assert [log[3] for log in logs] == ["k1", "k2", "k3", "k5"]  # no second inbound row for the retry
    assert {o: w for o, (w, _) in residents.items()} == {"o_a": "w_me", "o_b": "w_live", "o_c": "w_me",
                                                         "o_d": None, "o_e": "w_me"}
    assert residents["o_e"][1] is None and residents["o_d"][1] == T  # a retry is the resident writing too

    assert await admission.write_batch(db, [_record(community, "o_a", "k1", a.resident.id),
                                            _record(community, "o_c", "k3", c.resident.id)]) == [None, None]
    keys, logs, residents = await _rows(db)
    assert keys["k1"][:3] == ("done", "passive", {"type": "text", "content": "好的"})
    assert keys["k3"][0] == "done" and keys["k2"][0] == "running"
    assert [log for log in logs if log[1] == "out"] == [("o_a", "out", "好的", None, "passive"),
                                                        ("o_c", "out", "好的", None, "passive")]
    assert {o: w for o, (w, _) in residents.items()} == {"o_a": None, "o_b": "w_live", "o_c": None,
                                                         "o_d": None, "o_e": "w_me"}


async def test_arrivals_and_records_in_one_batch(world, path):
    db, community = world
    first, = await admission.write_batch(db, [_arrival(community, "o_a", "k1")])
    record, arrival = await admission.write_batch(db, [_record(community, "o_a", "k1", first.resident.id),
                                                       _arrival(community, "o_c", "k2")])
    assert record is None and arrival.first and arrival.has_turn
    keys, _, residents = await _rows(db)
    assert keys["k1"][0] == "done" and keys["k2"][0] == "running"
    assert residents["o_a"][0] is None and residents["o_c"][0] == "w_me"


async def test_dialogs_changed_by_the_handlers_are_saved_with_the_record(world, path):
    db, community = world
    a, b = await admission.write_batch(db, [_arrival(community, "o_a", "k1"), _arrival(community, "o_b", "k2")])
    async with db.sessions.begin() as session:  # staff touch the thread meanwhile: a column the handler leaves
        (await session.get(Conversation, a.conversation.id)).handoff_active_at = T
    a.conversation.state, a.conversation.data = "intake:repair:photo", {"draft": {"text": "灯坏了", "place": "3栋"}}
    new = Conversation(community_id=community, resident_id=b.resident.id, data={}, handoff=False, misunderstood=0)
    new.state, new.expires_at = "points:history", T + timedelta(minutes=30)
    await admission.write_batch(db, [
        replace(_record(community, "o_a", "k1", a.resident.id), changed_rows=[a.conversation]),
        replace(_record(community, "o_b", "k2", b.resident.id), changed_rows=[new])])
    async with db.sessions() as session:
        dialogs = {c.resident_id: c for c in await session.scalars(select(Conversation))}
    saved = dialogs[a.resident.id]
    assert (saved.state, saved.data, saved.misunderstood) == ("intake:repair:photo",
                                                              {"draft": {"text": "灯坏了", "place": "3栋"}}, 1)
    assert saved.handoff_active_at == T  # not overwritten with the handler's stale copy
    created = dialogs[b.resident.id]
    assert (created.state, created.expires_at, created.data, created.handoff) == (
        "points:history", T + timedelta(minutes=30), {}, False)


def test_what_postgresqls_one_statement_leaves_to_sqlalchemy():
    arrival, record = _arrival(1, "o_a", "k1"), _record(1, "o_b", "k0", 7)
    late = replace(record, key="k_late", outbox_message={"kind": "text", "payload": {"content": "晚了"}})
    changed = replace(record, key="k_changed", changed_rows=[Resident(community_id=1, openid="o_b")])
    dialog = replace(record, key="k_dialog", changed_rows=[Conversation(community_id=1, resident_id=7)])
    assert admission_pg.split([arrival], [record, late, changed, dialog]) == ([arrival], [record, dialog])
    twice, same_key = _arrival(1, "o_a", "k2"), _arrival(1, "o_x", "k1")
    assert admission_pg.split([arrival, twice], []) == ([], [])  # one resident twice
    assert admission_pg.split([arrival, same_key], []) == ([], [])  # one key twice
    recorded_too = _record(1, "o_a", "k0", 7)
    assert admission_pg.split([arrival], [recorded_too]) == ([], [recorded_too])
    other_terms = replace(_arrival(1, "o_y", "k3"), turn_lease=timedelta(seconds=99))
    assert admission_pg.split([arrival, other_terms], []) == ([arrival], [])
    no_worker = replace(_arrival(1, "o_z", "k4"), worker=None)
    assert admission_pg.split([no_worker], []) == ([], [])


async def test_a_mixed_batch_is_written_in_two_parts(world):
    db, community = world
    first, = await admission.write_batch(db, [_arrival(community, "o_a", "k1")])
    late = replace(_record(community, "o_a", "k1", first.resident.id), delivery="outbox", reply=None,
                   outbox_message={"kind": "text", "payload": {"content": "晚到的回复"}},
                   log={"msg_type": "text", "content": "晚到的回复", "delivery": "customer_service"})
    results = await admission.write_batch(db, [late, _arrival(community, "o_c", "k2")])
    assert results[0] is None and results[1].first and results[1].has_turn
    keys, logs, residents = await _rows(db)
    assert keys["k1"][:2] == ("done", "outbox") and keys["k2"][0] == "running"
    assert ("o_a", "out", "晚到的回复", None, "customer_service") in logs
    assert residents["o_a"][0] is None and residents["o_c"][0] == "w_me"


async def test_a_part_that_fails_fails_only_its_own_items(world, monkeypatch):
    db, community = world

    async def broken(*args, **kwargs):
        raise OSError("connection lost")
    monkeypatch.setattr(admission, "_write_plainly", broken)
    late = replace(_record(community, "o_b", "k_old", None), delivery="outbox", reply=None,
                   outbox_message={"kind": "text", "payload": {"content": "晚到的回复"}})
    results = await admission.write_batch(db, [_arrival(community, "o_a", "k1"), late])
    assert isinstance(results[0], OSError) and results[1] is None
    keys, _, _ = await _rows(db)
    assert "k1" not in keys and keys["k_old"][0] == "done"


async def _two_first_dialogs(db, community, openid, key):
    """Two messages of one resident each found no dialog (the first outlived its turn's lease)
    and saved one; the later must replace the earlier, not fail the record."""
    admitted, = await admission.write_batch(db, [_arrival(community, openid, key)])
    assert admitted.conversation is None
    for state in ("intake:repair:place", "points:history"):
        first = Conversation(community_id=community, resident_id=admitted.resident.id, data={"step": state},
                             handoff=False, misunderstood=0)
        first.state = state
        results = await admission.write_batch(db, [replace(_record(community, openid, key, admitted.resident.id),
                                                           changed_rows=[first])])
        assert results == [None]
    async with db.sessions() as session:
        rows = list(await session.scalars(select(Conversation).where(Conversation.resident_id == admitted.resident.id)))
    assert [(row.state, row.data) for row in rows] == [("points:history", {"step": "points:history"})]


async def test_a_second_first_dialog_replaces_the_first(world, path):
    db, community = world
    await _two_first_dialogs(db, community, "o_b", "k1")


async def test_the_batch_statement_finds_its_rows_by_key_on_a_young_database(pg_world):
    """Prepared once, the statement keeps a generic plan made with the statistics of that moment;
    on the batch connection it looks rows up by their keys even when the tables were empty then,
    instead of scanning tables that grow by a row or two a message (storage.admission_pg)."""
    db, _ = pg_world
    connection = await db.direct._ready()
    await connection.execute(f"PREPARE batch AS {admission_pg.BATCH}")
    await connection.execute("SET plan_cache_mode = force_generic_plan")
    plan = "\n".join(row[0] for row in await connection.fetch(
        "EXPLAIN EXECUTE batch('[]', '[]', now(), now(), '[]', '[]', '[]', '[]')"))
    assert "Seq Scan" not in plan and "Hash Join" not in plan and "Merge Join" not in plan
    for table, index in (("processed_messages", "uq_processed_messages_account"), ("residents", "pk_residents"),
                         ("conversations", "pk_conversations"), ("conversations", "uq_conversations_resident_id")):
        assert f"Index Scan using {index} on {table}" in plan


async def test_a_photo_or_a_place_is_noted_on_the_resident(world, path):
    db, community = world
    photo, new = await admission.write_batch(db, [_arrival(community, "o_a", "k1", media=True),
                                                  _arrival(community, "o_new", "k2", media=True)])
    assert photo.resident.last_media_at == T and new.resident.last_media_at == T
    later = T + timedelta(minutes=1)
    await admission.write_batch(db, [_record(community, "o_a", "k1", photo.resident.id)])
    words, = await admission.write_batch(db, [_arrival(community, "o_a", "k3", now=later)])
    assert words.resident.last_media_at == T  # words after the photo keep its time
    assert (await admission.write_batch(db, [_arrival(community, "o_b", "k4")]))[0].resident.last_media_at is None


async def test_on_sqlite_a_batch_waits_for_a_handlers_transaction_without_blocking_the_loop(sqlite_url):
    async for db, community in _world(sqlite_url):
        beats = []

        async def heartbeat():
            while True:
                beats.append(1)
                await asyncio.sleep(0.005)
        beating = asyncio.create_task(heartbeat())
        async with db.sessions.begin() as session:  # a handler's transaction holds the write lock
            await session.execute(text("UPDATE residents SET name = '李阿姨' WHERE openid = 'o_a'"))
            batch = asyncio.create_task(admission.write_batch(db, [_arrival(community, "o_a", "k1")]))
            await asyncio.sleep(0.1)
            assert not batch.done() and len(beats) > 5  # waiting, and the loop runs meanwhile
        [admitted] = await batch
        beating.cancel()
        assert admitted.first and admitted.resident.name == "李阿姨"  # it saw what the handler committed


async def test_on_sqlite_a_failing_batch_leaves_nothing_behind(sqlite_url, monkeypatch):
    async for db, community in _world(sqlite_url):
        def half_done(connection, arrivals, records):
            admission.admit_sqlite(connection, arrivals)  # claimed and logged…
            raise RuntimeError("disk full")  # …then the transaction fails
        monkeypatch.setattr(admission, "_write_plainly_sqlite", half_done)
        [result] = await admission.write_batch(db, [_arrival(community, "o_a", "k1")])
        assert isinstance(result, RuntimeError)
        keys, logs, _ = await _rows(db)
        assert "k1" not in keys and not [log for log in logs if log[3] == "k1"]
        monkeypatch.undo()
        [again] = await admission.write_batch(db, [_arrival(community, "o_a", "k1")])
        assert again.first  # WeChat's retry claims it afresh

