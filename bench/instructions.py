"""Instructions per message, Linli against the bare baseline of bench/endpoint.py, under callgrind.

    python bench/instructions.py [--requests 400] [--only linli|baseline]

The machine this runs on is shared: CPU time per message moves by a third from one minute to
the next, and the wall-clock ratio of bench/endpoint.py with it. Instructions counted by
valgrind's callgrind hardly do: the same server and load give counts within about 3 % of each
other (batches still form by timing), so a change worth a few percent shows up. Each server runs
under callgrind with counting off; after a warm-up, counting is switched on (callgrind_control) for the measured
messages only — same greeting messages, safe mode, SQLite — sent over 10 connections.

Counts are of user-space instructions only (the kernel's part of a system call is not in them)
and a server under valgrind runs ~50 times slower, so batches are smaller than at full speed:
this is a ratio to watch between commits, next to bench/endpoint.py, not a replacement for it.
For the same reason the server's idle work (scheduler ticks, the outbox poll, the heartbeat)
lasts 50 times longer per message than at full speed, where it is noise: it is counted for as
long again with no messages, and left out of the per-message figure (both are printed).

Last line: instructions_linli=N instructions_baseline=N ratio=R
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import endpoint  # noqa: E402  (the baseline server, the config, the request builder and driver)
from bot.config import load_settings  # noqa: E402
from bot.wechat.simulate import WeChatSigner  # noqa: E402

CONNECTIONS = 10


def server_command(kind: str, port: int, config: Path) -> list[str]:
    if kind == "baseline":
        return [sys.executable, str(ROOT / "bench" / "endpoint.py"), "--baseline-server", str(port)]
    return [sys.executable, "-m", "bot.cli", "serve", "--config", str(config), "--port", str(port)]


def counted(path: str) -> int:
    """Instructions in one dump callgrind wrote (the summary of that part)."""
    values = [int(line.split()[1]) for line in open(path) if line.startswith(("totals:", "summary:"))]
    return max(values, default=0)


async def instructions(kind: str, config: Path, signer: WeChatSigner, requests: int, folder: Path
                       ) -> tuple[float, float]:
    """(instructions per message, of which the server's idle work in as long: timers, polls)."""
    port = endpoint.free_port()
    out = str(folder / f"callgrind.{kind}")
    process = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
                                *server_command(kind, port, config)],
                               env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def control(*args: str) -> None:
        subprocess.run(["callgrind_control", *args, str(process.pid)], check=True, capture_output=True)
    try:
        await endpoint.wait_healthy(port, timeout=600)
        await endpoint.drive(port, endpoint.build_requests(200, f"6{kind[0]}0", signer), CONNECTIONS)
        control("-i", "on")
        started = time.monotonic()
        _, _, errors = await endpoint.drive(port, endpoint.build_requests(requests, f"6{kind[0]}1", signer),
                                            CONNECTIONS)
        busy_seconds = time.monotonic() - started
        control("-i", "off")
        control("-d")
        # As long again with no messages: what the server's timers and polls cost meanwhile. Under
        # valgrind a run lasts ~50 times longer, so they weigh ~50 times more per message than at
        # full speed, where they are noise (bench/RESULTS.md, "Endpoint — Sixth session").
        control("-z")
        control("-i", "on")
        await asyncio.sleep(busy_seconds)
        control("-i", "off")
        control("-d")
        time.sleep(1)  # the dumps are written by the process itself
        if errors:
            raise RuntimeError(f"{kind}: {errors} requests failed")
        busy, idle = (counted(f"{out}.{process.pid}.{part}") for part in (1, 2))
        return busy / requests, idle / requests
    finally:
        process.terminate()
        process.wait(timeout=120)


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="linli-instructions-"))
    config = endpoint.write_config(folder)
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade", "--config", str(config)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    signer = WeChatSigner(load_settings(config, environ={}).accounts[0])
    counts = {}
    for kind in [args.only] if args.only else ["baseline", "linli"]:
        total, idle = await instructions(kind, config, signer, args.requests, folder)
        counts[kind] = total - idle
        print(f"{kind:8s} {total:,.0f} instructions per message, {idle:,.0f} of them idle work "
              f"(timers, polls) -> {total - idle:,.0f}", flush=True)
    if len(counts) == 2:
        print(f"instructions_linli={counts['linli']:.0f} instructions_baseline={counts['baseline']:.0f} "
              f"ratio={counts['baseline'] / counts['linli']:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--only", choices=["linli", "baseline"])
    asyncio.run(main(parser.parse_args()))
