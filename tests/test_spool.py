"""The spool keeps what arrived while the database was down, and gives it back exactly once."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy.exc import IntegrityError, OperationalError

from bot.events import IncomingEvent, Location
from bot.spool import Spool, event_from_dict, event_to_dict, store_unavailable


def _down() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


def test_an_event_survives_the_round_trip_through_json():
    event = IncomingEvent(account="a", openid="o1", account_user="gh", kind="location", create_time=1,
                          msg_id="42", location=Location(30.1, 112.2, "襄阳", 15.0), raw={"MsgType": "location"})
    assert event_from_dict(event_to_dict(event)) == event


def test_only_connection_trouble_counts_as_the_database_being_down():
    assert store_unavailable(ConnectionRefusedError())
    assert store_unavailable(asyncio.TimeoutError())
    assert store_unavailable(_down())
    assert not store_unavailable(IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")))
    assert not store_unavailable(ValueError("a bug"))


async def test_entries_come_back_in_order_and_once(tmp_path):
    spool = Spool(tmp_path, "host:1:ab")
    for n in range(3):
        spool.put("event", {"n": n})
    seen = []

    async def handle(entry):
        seen.append(entry["n"])

    assert spool.pending() and await spool.replay(handle) == 3
    assert seen == [0, 1, 2] and not spool.pending()
    assert await spool.replay(handle) == 0


async def test_what_the_database_still_refuses_stays_for_the_next_round(tmp_path):
    spool = Spool(tmp_path, "host:1:ab")
    for n in range(4):
        spool.put("event", {"n": n})
    seen, failures = [], [_down()]

    async def flaky(entry):
        if entry["n"] == 2 and failures:
            raise failures.pop()
        seen.append(entry["n"])

    assert await spool.replay(flaky) == 2
    spool.put("event", {"n": 4})  # more arrive meanwhile, in a new file
    assert await spool.replay(flaky) == 3
    assert seen == [0, 1, 2, 3, 4] and not spool.pending()


async def test_a_file_left_by_a_dead_process_is_replayed_by_another(tmp_path):
    Spool(tmp_path, "host:1:dead").put("event", {"n": 1})
    claimed = tmp_path / f"host_1_dead.{2 ** 22 + 12345}.cafe.replaying"  # a pid that does not exist
    (tmp_path / "host_1_dead.jsonl").rename(claimed)
    seen = []

    async def handle(entry):
        seen.append(entry["n"])

    assert await Spool(tmp_path, "host:2:live").replay(handle) == 1 and seen == [1]


async def test_a_torn_last_line_is_skipped(tmp_path):
    spool = Spool(tmp_path, "host:1:ab")
    spool.put("event", {"n": 1})
    with open(spool.path, "a", encoding="utf-8") as file:
        file.write('{"kind": "event", "n"')  # the process died mid-write: nothing was promised for it
    seen = []

    async def handle(entry):
        seen.append(entry["n"])

    assert await spool.replay(handle) == 1 and seen == [1]
    assert not os.listdir(tmp_path)
