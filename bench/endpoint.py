"""Endpoint throughput: Linli's full path against a bare wechatpy baseline, in one run.

    python bench/endpoint.py [--requests 6000] [--concurrency 50] [--rounds 3]

Both servers run as single processes on loopback, one after the other, under the same load of
signed, encrypted (safe mode) text messages with unique MsgIds, sent from this process over 50
concurrent connections. The bodies are built before timing starts, so the load generator spends
its CPU on HTTP only, and its cyclic GC is off while it measures (no_gc_pauses).

- baseline: an aiohttp handler doing only what any WeChat bot must: wechatpy signature check,
  decrypt, parse, and an encrypted text reply.
- linli: the real server (`linli serve`) on SQLite: dedup claim, message log, resident and dialog
  rows, NLU, the greeting handler, reply recording.

The machine is shared and noisy, so each round also reads the server process's own CPU time
(user + system, from /proc) and reports CPU milliseconds per message: the CPU ratio (baseline
CPU per message / Linli CPU per message) is what throughput on an idle core would be, and it
moves far less than the wall-clock ratio when other work shares the machine.

Second-to-last line: cpu_ms_linli=N cpu_ms_baseline=N cpu_ratio=R
Last line: linli_rps=N baseline_rps=N ratio=R p99_ms=N errors=N
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.wechat.simulate import WeChatSigner, message_xml  # noqa: E402

TOKEN = "benchtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxbench0000000001"
TEXTS = ["你好", "您好", "在吗", "早上好", "你好呀"]


def write_config(folder: Path) -> Path:
    config = folder / "bench.toml"
    config.write_text(f"""
[server]
simulator = false
[database]
url = "sqlite+aiosqlite:///{folder / 'bench.db'}"
[log]
level = "WARNING"
[wechat]
base_url = "http://127.0.0.1:9"
[[communities]]
slug = "bench"
name = "压测社区"
[[accounts]]
name = "bench"
community = "bench"
appid = "{APPID}"
secret = "x"
token = "{TOKEN}"
encoding_aes_key = "{AES_KEY}"
encryption = "safe"
""", encoding="utf-8")
    return config


# -- the bare baseline server -------------------------------------------------------------------

def run_baseline_server(port: int) -> None:
    from aiohttp import web
    from wechatpy import parse_message
    from wechatpy.crypto import WeChatCrypto
    from wechatpy.replies import TextReply

    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)

    async def handle(request: web.Request) -> web.Response:
        q = request.query
        xml = crypto.decrypt_message(await request.read(), q["msg_signature"], q["timestamp"], q["nonce"])
        message = parse_message(xml)
        reply = TextReply(content="您好！我是社区小助手。", message=message).render()
        return web.Response(text=crypto.encrypt_message(reply, q["nonce"], q["timestamp"]),
                            content_type="application/xml")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/wechat/bench", handle)
    app.router.add_get("/healthz", health)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- load ---------------------------------------------------------------------------------------

def build_requests(count: int, prefix: str, signer: WeChatSigner) -> list[tuple[dict, bytes]]:
    requests = []
    for i in range(count):
        xml = message_xml(f"o_bench_{i % 1000}", "gh_bench", "text", {"Content": TEXTS[i % len(TEXTS)]},
                          msg_id=f"{prefix}{i}")
        signed = signer.sign_post(xml)
        requests.append((signed.params, signed.body))
    return requests


async def drive(port: int, requests: list[tuple[dict, bytes]], concurrency: int) -> tuple[float, list[float], int]:
    url = f"http://127.0.0.1:{port}/wechat/bench"
    latencies: list[float] = []
    errors = 0
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        async def worker() -> None:
            nonlocal errors
            for params, body in queue:
                started = time.perf_counter()
                try:
                    async with http.post(url, params=params, data=body) as response:
                        text = await response.text()
                        if response.status != 200 or "<Encrypt>" not in text:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        with no_gc_pauses():
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
    return elapsed, latencies, errors


@contextlib.contextmanager
def no_gc_pauses():
    """The load generator's cyclic garbage collector off while it measures. Holding thousands
    of results, one full collection paused it for up to 145 ms — every message due meanwhile
    went out late and counted that pause as the server's latency (bench/RESULTS.md, "Load").
    Its garbage is freed by reference counting; the cycles left are collected afterwards."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_healthy(port: int, timeout: float = 90.0) -> None:
    until = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < until:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"server on {port} did not become healthy")


def start(kind: str, port: int, config: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if kind == "baseline":
        command = [sys.executable, __file__, "--baseline-server", str(port)]
    else:
        command = [sys.executable, "-m", "bot.cli", "serve", "--config", str(config), "--port", str(port)]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(kind: str, config: Path, requests, warmup, concurrency) -> tuple[float, list[float], int, float]:
    port = free_port()
    process = start(kind, port, config)
    try:
        await wait_healthy(port)
        await drive(port, warmup, concurrency)
        cpu_before = cpu_seconds(process.pid)
        elapsed, latencies, errors = await drive(port, requests, concurrency)
        cpu_ms = (cpu_seconds(process.pid) - cpu_before) * 1000 / len(requests)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return len(requests) / elapsed, latencies, errors, cpu_ms


def p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98] * 1000


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="linli-bench-"))
    config = write_config(folder)
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade", "--config", str(config)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    signer = WeChatSigner(load_settings(config, environ={}).accounts[0])
    results: dict[str, list] = {"baseline": [], "linli": []}
    for round_ in range(args.rounds):
        for kind in ("baseline", "linli"):
            warmup = build_requests(args.warmup, f"9{round_}{len(kind)}0", signer)
            requests = build_requests(args.requests, f"9{round_}{len(kind)}1", signer)
            rps, latencies, errors, cpu_ms = await measure(kind, config, requests, warmup, args.concurrency)
            results[kind].append((rps, latencies, errors, cpu_ms))
            print(f"round {round_ + 1} {kind:8s} rps={rps:7.0f} p50_ms={statistics.median(latencies) * 1000:6.1f} "
                  f"p99_ms={p99(latencies):6.1f} cpu_ms_per_msg={cpu_ms:.3f} errors={errors}", flush=True)
    linli_rps = statistics.median(r[0] for r in results["linli"])
    base_rps = statistics.median(r[0] for r in results["baseline"])
    all_latencies = [x for r in results["linli"] for x in r[1]]
    errors = sum(r[2] for r in results["linli"]) + sum(r[2] for r in results["baseline"])
    linli_cpu = statistics.median(r[3] for r in results["linli"])
    base_cpu = statistics.median(r[3] for r in results["baseline"])
    print(f"cpu_ms_linli={linli_cpu:.3f} cpu_ms_baseline={base_cpu:.3f} cpu_ratio={base_cpu / linli_cpu:.2f}")
    print(f"linli_rps={linli_rps:.0f} baseline_rps={base_rps:.0f} ratio={linli_rps / base_rps:.2f} "
          f"p99_ms={p99(all_latencies):.1f} errors={errors}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--baseline-server":
        run_baseline_server(int(sys.argv[2]))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args()))
