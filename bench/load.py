"""Sustained load through the full production path, and the bare baseline in the same run.

    python bench/load.py [--rate 300] [--seconds 60] [--workers 2] [--data ../shared/data]

What runs, all on this machine and loopback:

- PostgreSQL: a throwaway cluster from the machine's binaries (tests/postgres.py; fsync off as
  in the tests), migrated;
- the fake WeChat API as its own process (customer-service messages land there);
- `linli serve --workers 2` (the supervisor, worker 0 with the scheduler) with
  PROMETHEUS_MULTIPROC_DIR set, so /metrics adds up both workers; safe mode (AES);
- this process: an open-loop generator — message k is due at start + k / rate whatever the
  replies do. It speaks HTTP/1.1 itself over keep-alive connections (a full HTTP client costs
  more CPU than the server's share of some messages, and it shares the two cores), opened up
  front so the kernel's SO_REUSEPORT hash spreads them over the workers, and used first-in
  first-out, as nginx's upstream keepalive cache does; a new one is opened whenever all are busy.
  Latency is from the due time to the whole answer, so a generator that falls behind shows up in
  the numbers instead of hiding — which is why it measures with its cyclic GC off: its own full
  collections (up to 145 ms, holding 18,000 results) were counted as the server's latency.

The mix is residents' visits built from real messages (../shared/data, read at run time, never
copied): Teddy Cup titles and first sentences of letters (reports, mostly complaints), SMP2017
queries (chit-chat, questions), greetings, "我的积分", "我的工单". A resident answers what the bot
asks — a number for "您是想：1… 2…", a place, "楼道灯坏了", "跳过" for the photo and the phone,
"确认" on the summary — two seconds after reading the reply, so reports run through the intake
form and file tickets. Each message is delivered as WeChat does: up to three tries with the same
MsgId, each given up after 5 s.

Counted afterwards, once the outbox is empty:
- deadline_misses: the servers' linli_deadline_misses_total (replies sent later as customer-
  service messages) plus messages whose first try went unanswered for 5 s (at most: a message
  can be both);
- lost / duplicated: per message, one inbound log row and one finished processed key in the
  database; a message the server answered passively got that answer on one of its tries; per
  resident, the customer-service messages on the fake API match the outbox rows sent (unsent or
  failed rows are lost). A message answered with nothing (a thread handed to staff) sends nothing.

The baseline is bench/endpoint.py's bare wechatpy server (signature, decrypt, parse, encrypted
reply; one process), driven closed-loop with 50 connections, as in that benchmark.

Last line: rps=N p50_ms=N p99_ms=N deadline_misses=N lost=N duplicated=N baseline_rps=N
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import heapq
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import endpoint  # noqa: E402  (the baseline server and its closed-loop driver)
from bot.config import load_settings  # noqa: E402
from bot.wechat.simulate import WeChatSigner, message_xml  # noqa: E402

GREETINGS = ["你好", "您好", "在吗", "早上好", "你好呀", "谢谢", "好的"]
SESSION_GAP = 2.0  # seconds between one resident's messages
WECHAT_GIVES_UP = 5.0  # seconds WeChat waits for one try
WECHAT_TRIES = 3


# ---- the message mix ----------------------------------------------------------------------------

@dataclass
class Corpus:
    titles: list[str]
    sentences: list[str]
    queries: list[str]


def load_corpus(data: Path) -> Corpus:
    """Titles and first sentences from Teddy Cup, queries from SMP2017 (chat-sized ones)."""
    titles, sentences = [], []
    for name in ("messages_unlabeled.csv", "messages_labeled.csv"):
        with (data / "teddycup2020-gov-messages" / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if 4 <= len(row["title"]) <= 40:
                    titles.append(row["title"])
                first = re.split(r"[。！？!?]", row["text"].strip(), maxsplit=1)[0]
                if 6 <= len(first) <= 60:
                    sentences.append(first)
    with (data / "smp2017-ecdt-queries" / "queries.csv").open(encoding="utf-8") as handle:
        queries = [row["text"] for row in csv.DictReader(handle) if 1 <= len(row["text"]) <= 30]
    return Corpus(titles, sentences, queries)


def opening(corpus: Corpus, rng: random.Random) -> str:
    """A visit's first message: about 40 % reports (titles and first sentences of real letters)."""
    roll = rng.random()
    if roll < 0.25:
        return rng.choice(corpus.titles)
    if roll < 0.40:
        return rng.choice(corpus.sentences)
    if roll < 0.55:
        return rng.choice(corpus.queries)
    if roll < 0.72:
        return rng.choice(GREETINGS)
    if roll < 0.86:
        return "我的积分"
    return "我的工单"


# What a resident answers to the bot's questions (its texts in bot/texts/); anything else ends the visit.
ANSWERS = [
    ("请回复数字", "1"),            # "您是想：1. … 2. …" or a category list
    ("请问在哪里", "3栋2单元"),
    ("哪里坏了", "楼道灯坏了"),
    ("现场照片", "跳过"),
    ("联系电话", "跳过"),
    ("回复“确认”提交", "确认"),
]
MAX_TURNS = 8


def answer_to(reply: str) -> str | None:
    for cue, answer in ANSWERS:
        if cue in reply:
            return answer
    return None


class Residents:
    """Who speaks in each slot: a resident whose answer is due, else a new visit. A resident
    answers only after reading the reply (and SESSION_GAP seconds of typing)."""

    def __init__(self, corpus: Corpus, residents: int, seed: int) -> None:
        self.corpus, self.rng = corpus, random.Random(seed)
        self.pool = [f"o_load_{i:05d}" for i in range(residents)]
        self.next_new = 0
        self.busy: set[str] = set()
        self.due: list[tuple[float, int, str, str, int]] = []  # (ready at, order, openid, text, turn)
        self.order = 0

    def next(self, now: float) -> tuple[str, str, int]:
        if self.due and self.due[0][0] <= now:
            _, _, openid, text, turn = heapq.heappop(self.due)
            return openid, text, turn
        openid = self._free()
        self.busy.add(openid)
        return openid, opening(self.corpus, self.rng), 1

    def _free(self) -> str:
        while True:
            openid = self.pool[self.next_new % len(self.pool)]
            self.next_new += 1
            if openid not in self.busy:
                return openid

    def replied(self, openid: str, reply: str | None, turn: int, now: float) -> None:
        follow = answer_to(reply) if reply and turn < MAX_TURNS else None
        if follow is None:
            self.busy.discard(openid)
            return
        self.order += 1
        heapq.heappush(self.due, (now + SESSION_GAP, self.order, openid, follow, turn + 1))


@dataclass
class Message:
    openid: str
    text: str
    msg_id: str
    due: float  # seconds after the start


# ---- the open-loop generator --------------------------------------------------------------------

class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time; much cheaper than a full client,
    which matters when the generator shares the two cores with what it measures."""

    def __init__(self) -> None:
        self.transport = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            response = _take_response(self.buffer)
            if response is not None:
                self.waiter.set_result(response)

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    def send(self, data: bytes) -> asyncio.Future:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter

    def give_up(self) -> None:
        """WeChat's 5 seconds are over: it drops the connection."""
        self.closed = True
        self.transport.abort()


def _take_response(buffer: bytearray) -> tuple[int, bytes] | None:
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    length = int(re.search(rb"content-length:\s*(\d+)", head).group(1))
    if len(buffer) < end + 4 + length:
        return None
    body = bytes(buffer[end + 4:end + 4 + length])
    del buffer[:end + 4 + length]
    return int(head[9:12]), body


class Pool:
    """Idle connections used first-in first-out, so every connection — and so every worker the
    kernel gave it to — takes its turn (nginx's upstream keepalive cache works the same way)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: deque[Connection] = deque()
        self.opened = 0

    async def open(self, count: int) -> None:
        self.idle.extend(await asyncio.gather(*(self._connect() for _ in range(count))))

    async def _connect(self) -> Connection:
        self.opened += 1
        _, connection = await asyncio.get_running_loop().create_connection(Connection, "127.0.0.1", self.port)
        return connection

    async def post(self, data: bytes) -> tuple[int, bytes]:
        """One request within WeChat's 5 s, connecting included; a connection that did not answer
        in time is dropped, as WeChat drops it."""
        while self.idle and self.idle[0].closed:  # the server closed it while idle
            self.idle.popleft()
        connection = None
        try:
            async with asyncio.timeout(WECHAT_GIVES_UP):
                connection = self.idle.popleft() if self.idle else await self._connect()
                response = await connection.send(data)
        except TimeoutError:
            if connection is not None:
                connection.give_up()
            raise ConnectionError("no answer within 5 s") from None
        self.idle.append(connection)
        return response

    def close(self) -> None:
        for connection in self.idle:
            connection.transport.close()


def request_bytes(port: int, signed) -> bytes:
    head = (f"POST /wechat/bench?{urlencode(signed.params)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(signed.body)}\r\n\r\n")
    return head.encode() + signed.body


@dataclass
class Result:
    message: Message
    latency: float | None  # seconds from the due time to the whole answer; None: no answer
    answer: str  # reply | success | error (no try answered)
    tries: int = 0  # the try that was answered (WeChat tries three times)


async def run_open_loop(port: int, residents: Residents, signer: WeChatSigner, *, rate: float, seconds: float,
                        prefix: str, connections: int) -> tuple[list[Result], float, float, int]:
    """Message k at start + k / rate whatever the replies do; returns the results, the run's
    length, the generator's worst lag behind the schedule, and the connections it opened."""
    with endpoint.no_gc_pauses():
        return await _open_loop(port, residents, signer, rate=rate, seconds=seconds, prefix=prefix,
                                connections=connections)


async def _open_loop(port: int, residents: Residents, signer: WeChatSigner, *, rate: float, seconds: float,
                     prefix: str, connections: int) -> tuple[list[Result], float, float, int]:
    pool = Pool(port)
    await pool.open(connections)
    loop = asyncio.get_running_loop()
    results: list[Result] = []
    tasks, worst_lag = [], 0.0
    start = loop.time() + 0.1
    progress = asyncio.create_task(_progress(results, tasks, start))
    for k in range(int(rate * seconds)):
        delay = start + k / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        worst_lag = max(worst_lag, -delay)
        openid, text, turn = residents.next(k / rate)
        message = Message(openid, text, f"{prefix}{k:07d}", k / rate)
        tasks.append(asyncio.create_task(_post(pool, port, message, turn, start, signer, residents, results)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - start
    progress.cancel()
    pool.close()
    return results, elapsed, worst_lag, pool.opened


async def _progress(results: list, tasks: list, start: float) -> None:
    """Every 10 s to stderr: how far the run is, so an overloaded run is seen as one."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(10)
        answered = sum(1 for r in results if r.answer != "error")
        print(f"  t={loop.time() - start:4.0f}s sent={len(tasks)} answered={answered} "
              f"waiting={len(tasks) - len(results)}", file=sys.stderr, flush=True)


async def _post(pool: Pool, port: int, message: Message, turn: int, start: float, signer: WeChatSigner,
                residents: Residents, results: list[Result]) -> None:
    """Deliver as WeChat does: up to three tries of the same message (same MsgId), each given up
    after 5 s; the latency is to the first answer, whichever try brought it."""
    loop = asyncio.get_running_loop()
    xml = message_xml(message.openid, "gh_bench", "text", {"Content": message.text}, msg_id=message.msg_id)
    result, reply = Result(message, None, "error"), None
    for attempt in range(1, WECHAT_TRIES + 1):
        try:
            status, body = await pool.post(request_bytes(port, signer.sign_post(xml)))
        except OSError:
            continue
        if status == 200:
            reply = signer.open_reply(body.decode())
            answer = "reply" if reply and reply.get("Content") else "success"
            result = Result(message, loop.time() - start - message.due, answer, attempt)
            break
    results.append(result)
    residents.replied(message.openid, reply.get("Content") if reply else None, turn, loop.time() - start)


# ---- the processes ------------------------------------------------------------------------------

def write_config(folder: Path, db_url: str, api_url: str) -> Path:
    config = folder / "load.toml"
    config.write_text(f"""
[server]
simulator = false
spool_dir = "{folder / 'spool'}"
[database]
url = "{db_url}"
pool_size = 10
[log]
level = "WARNING"
[wechat]
base_url = "{api_url}"
[outbox]
base_backoff_seconds = 0.2
max_backoff_seconds = 2.0
poll_interval_seconds = 1.0
[[communities]]
slug = "bench"
name = "压测社区"
[[accounts]]
name = "bench"
community = "bench"
appid = "{endpoint.APPID}"
secret = "bench-secret"
token = "{endpoint.TOKEN}"
encoding_aes_key = "{endpoint.AES_KEY}"
encryption = "safe"
""", encoding="utf-8")
    return config


def start(command: list[str], log: Path, **env: str) -> subprocess.Popen:
    with log.open("wb") as handle:
        return subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                                env={**os.environ, "PYTHONPATH": str(ROOT), **env})


async def wait_workers(port: int, workers: int, process: subprocess.Popen, timeout: float = 120.0) -> set[int]:
    """Until /readyz answers and /healthz has answered from every worker."""
    pids: set[int] = set()
    until = time.monotonic() + timeout
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        while time.monotonic() < until and process.poll() is None:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    pids.add(int(response.headers["X-Linli-Worker"].split()[1]))
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200 and len(pids) == workers:
                        return pids
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not start {workers} workers")


def postgres_pids(data_dir: Path) -> list[int]:
    """The benchmark cluster's postmaster and its backends (not other clusters on the machine)."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    try:
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
    except OSError:
        children = []
    return [postmaster, *map(int, children)]


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---- checking -----------------------------------------------------------------------------------

async def settle(db_url: str, timeout: float = 180.0) -> None:
    """Until every key is finished and the outbox holds nothing unsent."""
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import OutboxMessage, ProcessedMessage

    db = Database(db_url)
    until = time.monotonic() + timeout
    try:
        while time.monotonic() < until:
            async with db.sessions() as session:
                running = await session.scalar(select(func.count()).select_from(ProcessedMessage)
                                               .where(ProcessedMessage.status != "done"))
                unsent = await session.scalar(select(func.count()).select_from(OutboxMessage)
                                              .where(OutboxMessage.status.in_(("pending", "sending"))))
            if running == 0 and unsent == 0:
                return
            await asyncio.sleep(0.5)
        print(f"warning: not settled after {timeout:.0f}s (running={running} unsent={unsent})", flush=True)
    finally:
        await db.dispose()


@dataclass
class Books:
    """What the database says happened, for the checks."""

    inbound: Counter  # MsgId → inbound log rows
    keys: dict[str, list[tuple[str, str | None]]]  # MsgId → [(status, delivery)] of its processed keys
    outbox: Counter  # openid → outbox rows sent
    outbox_failed: int  # rows not sent (still pending, or failed)
    outbox_states: dict
    tickets: int


async def read_books(db_url: str) -> Books:
    from sqlalchemy import func, select

    from storage.db import Database
    from storage.models import MessageLog, OutboxMessage, ProcessedMessage
    from storage.ticket_models import Ticket

    db = Database(db_url)
    try:
        async with db.sessions() as session:
            inbound = Counter(dict((await session.execute(
                select(MessageLog.wechat_msg_id, func.count()).where(MessageLog.direction == "in")
                .group_by(MessageLog.wechat_msg_id))).all()))
            keys: dict[str, list] = {}
            for key, status, delivery in (await session.execute(
                    select(ProcessedMessage.dedup_key, ProcessedMessage.status, ProcessedMessage.delivery))).all():
                keys.setdefault(key.rsplit(":", 1)[-1], []).append((status, delivery))
            outbox = Counter(dict((await session.execute(
                select(OutboxMessage.openid, func.count()).where(OutboxMessage.status == "sent")
                .group_by(OutboxMessage.openid))).all()))
            states = dict((await session.execute(select(OutboxMessage.status, func.count())
                                                 .group_by(OutboxMessage.status))).all())
            errors = Counter(dict((await session.execute(
                select(OutboxMessage.last_error, func.count()).where(OutboxMessage.status != "sent")
                .group_by(OutboxMessage.last_error))).all()))
            tickets = await session.scalar(select(func.count()).select_from(Ticket))
    finally:
        await db.dispose()
    for error, count in errors.most_common(3):
        print(f"outbox not sent ({count}): {error}", flush=True)
    return Books(inbound, keys, outbox, sum(n for state, n in states.items() if state != "sent"), states, tickets)


def count_losses(results: list[Result], books: Books, delivered: list[dict]) -> tuple[Counter, Counter]:
    """What was lost and what was duplicated, by kind.

    In the database, per message: one inbound log row and one finished key. At WeChat: a message
    the server answered passively must have had that answer on one of WeChat's tries; per
    resident, the customer-service messages on the fake API must match the outbox rows sent
    (rows not sent count as lost). A message answered with nothing (a thread handed to staff) is
    expected to send nothing."""
    lost, duplicated = Counter(), Counter()
    for result in results:
        msg_id, keys = result.message.msg_id, books.keys.get(result.message.msg_id, [])
        finished = [delivery for status, delivery in keys if status == "done"]
        lost["not logged"] += books.inbound[msg_id] == 0
        lost["never finished"] += not finished
        duplicated["logged twice"] += max(0, books.inbound[msg_id] - 1)
        answered = result.answer == "reply"  # by one of WeChat's three tries
        lost["passive reply never received"] += finished == ["passive"] and not answered
        duplicated["passive reply besides a later one"] += answered and finished == ["outbox"]
    at_wechat = Counter(item["openid"] for item in delivered)
    for openid in set(at_wechat) | set(books.outbox):
        lost["sent rows not at WeChat"] += max(0, books.outbox[openid] - at_wechat[openid])
        duplicated["at WeChat more than sent"] += max(0, at_wechat[openid] - books.outbox[openid])
    lost["outbox rows not sent"] += books.outbox_failed
    return +lost, +duplicated


async def deadline_misses(port: int) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        text = await response.text()
    match = re.search(r"^linli_deadline_misses_total\s+([0-9.e+]+)", text, re.M)
    return int(float(match.group(1))) if match else 0


async def delivered_to_wechat(api_port: int) -> list[dict]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{api_port}/_fake/sent") as response:
        return await response.json()


# ---- the run ------------------------------------------------------------------------------------

async def linli_run(args, corpus: Corpus, folder: Path, db_url: str) -> dict:
    api_port, port = endpoint.free_port(), endpoint.free_port()
    api = start([sys.executable, "-m", "bot.wechat.fake_api", "--port", str(api_port)], folder / "fake_api.log")
    config = write_config(folder, db_url, f"http://127.0.0.1:{api_port}")
    metrics_dir = folder / "metrics"
    metrics_dir.mkdir()
    server = start([sys.executable, "-m", "bot.cli", "serve", "--config", str(config), "--port", str(port),
                    "--workers", str(args.workers)], folder / "server.log", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    try:
        workers = await wait_workers(port, args.workers, server)
        signer = WeChatSigner(load_settings(config, environ={}).accounts[0])
        residents = Residents(corpus, args.residents, args.seed)
        warm, _, _, _ = await run_open_loop(port, residents, signer, rate=args.rate, seconds=args.warmup,
                                            prefix="71", connections=args.connections)
        await settle(db_url)
        run = await measured(args, residents, signer, port, api, workers)
        await settle(db_url)
        books = await read_books(db_url)
        delivered = [item for item in await delivered_to_wechat(api_port) if item["openid"].startswith("o_load_")]
        lost, duplicated = count_losses(warm + run["results"], books, delivered)
        print(f"lost: {dict(lost)} duplicated: {dict(duplicated)}", flush=True)
        run["lost"], run["duplicated"] = sum(lost.values()), sum(duplicated.values())
        run.update(misses=run["dropped"] + await deadline_misses(port), tickets=books.tickets, cs=len(delivered),
                   outbox=books.outbox_states)
        return run
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        api.terminate()
        api.wait(timeout=10)


async def measured(args, residents: Residents, signer: WeChatSigner, port: int, api, workers) -> dict:
    """The measured phase, with the CPU every part of the set-up spent in it."""
    cpu_before, load_before = _cpu_snapshot(workers, api, args.pg_data), load_average()
    results, elapsed, worst_lag, opened = await run_open_loop(port, residents, signer, rate=args.rate,
                                                              seconds=args.seconds, prefix="72",
                                                              connections=args.connections)
    cpu_after = _cpu_snapshot(workers, api, args.pg_data)
    cpu = _cpu_spent(cpu_before, cpu_after)
    per_worker = {pid: round(seconds - cpu_before["workers"].get(pid, 0.0), 1)
                  for pid, seconds in cpu_after["workers"].items()}
    if args.dump:
        Path(args.dump).write_text(json.dumps([(r.message.openid, r.message.text, r.message.msg_id, r.latency,
                                                r.answer) for r in results], ensure_ascii=False))
    return {"results": results, "sent": len(results), "per_worker": per_worker, "elapsed": elapsed, "worst_lag": worst_lag, "opened": opened,
            "latencies": [r.latency for r in results if r.latency is not None], "cpu": cpu,
            "answers": Counter(r.answer for r in results), "load": (load_before, load_average()),
            "dropped": sum(1 for r in results if r.tries != 1)}  # WeChat had to try again (or gave up)


def _cpu_snapshot(workers, api, data_dir: Path) -> dict[str, dict[int, float]]:
    """CPU seconds so far of every process of each part (PostgreSQL's backends come and go)."""
    return {"workers": _cpu_of(workers), "postgres": _cpu_of(postgres_pids(data_dir)), "fake_api": _cpu_of([api.pid]),
            "generator": {os.getpid(): sum(os.times()[:2])}}


def _cpu_of(pids) -> dict[int, float]:
    seconds = {}
    for pid in pids:
        try:
            seconds[pid] = endpoint.cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return seconds


def _cpu_spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    return {name: sum(cpu - before[name].get(pid, 0.0) for pid, cpu in pids.items()) for name, pids in after.items()}


def baseline_rps(args, folder: Path) -> float:
    signer = WeChatSigner(load_settings(write_config(folder, "sqlite+aiosqlite:///x.db", "http://127.0.0.1:9"),
                                        environ={}).accounts[0])
    warmup = endpoint.build_requests(500, "730", signer)
    requests = endpoint.build_requests(args.baseline_requests, "731", signer)
    rps, latencies, errors, cpu_ms = asyncio.run(endpoint.measure("baseline", folder / "load.toml", requests, warmup,
                                                                  50))
    print(f"baseline: rps={rps:.0f} p99_ms={endpoint.p99(latencies):.1f} cpu_ms_per_msg={cpu_ms:.3f} errors={errors}",
          flush=True)
    return rps


def report(run: dict, args) -> None:
    latencies = sorted(run["latencies"])
    cpu = run["cpu"]
    per_msg = {name: seconds * 1000 / run["sent"] for name, seconds in cpu.items()}
    print(f"linli: sent={run['sent']} in {run['elapsed']:.1f}s answers={dict(run['answers'])} "
          f"customer_service={run['cs']} outbox={run['outbox']} tickets={run['tickets']} connections={run['opened']} "
          f"generator_worst_lag_ms={run['worst_lag'] * 1000:.1f}")
    print("cpu_ms_per_msg: " + " ".join(f"{name}={value:.2f}" for name, value in per_msg.items())
          + f" (worker CPU seconds by pid: {run['per_worker']})")
    print(f"latency_ms: p50={_q(latencies, 50):.1f} p90={_q(latencies, 90):.1f} p99={_q(latencies, 99):.1f} "
          f"max={latencies[-1] * 1000:.1f}")
    print(f"load average: before {run['load'][0]}, after {run['load'][1]}", flush=True)


def _q(latencies: list[float], percent: int) -> float:
    return statistics.quantiles(latencies, n=100)[percent - 1] * 1000


def main(args: argparse.Namespace) -> None:
    from tests.postgres import TEMPLATE, running_cluster

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the clean-up below runs

    corpus = load_corpus(Path(args.data).resolve())
    print(f"corpus: {len(corpus.titles)} titles, {len(corpus.sentences)} sentences, {len(corpus.queries)} queries; "
          f"rate {args.rate}/s for {args.seconds}s, {args.workers} workers; load average {load_average()}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="linli-load-"))
    with running_cluster() as cluster:
        cluster.sql(f"CREATE DATABASE linli_load TEMPLATE {TEMPLATE}")
        args.pg_data = cluster.data
        run = asyncio.run(linli_run(args, corpus, folder, cluster.url("linli_load")))
    report(run, args)
    base = baseline_rps(args, folder) if args.baseline_requests else 0.0
    latencies = sorted(run["latencies"])
    print(f"rps={len(latencies) / run['elapsed']:.0f} p50_ms={_q(latencies, 50):.1f} p99_ms={_q(latencies, 99):.1f} "
          f"deadline_misses={run['misses']} lost={run['lost']} duplicated={run['duplicated']} "
          f"baseline_rps={base:.0f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=300.0, help="messages per second, open loop")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds at the rate before measuring")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections opened up front")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--dump", help="write every measured message's result to this JSON file")
    parser.add_argument("--baseline-requests", type=int, default=6000)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"),
                        help="the shared data folder (default: ../shared/data beside the repo)")
    main(parser.parse_args())
