"""Instructions per message, Linli against the bare baseline of bench/endpoint.py, under callgrind.

    python bench/instructions.py [--requests 400] [--only linli|baseline]

The machine this runs on is shared: CPU time per message moves by a third from one minute to
the next, and the wall-clock ratio of bench/endpoint.py with it. Instructions counted by
valgrind's callgrind hardly do: the same server and load give counts within about 3 % of each
other (batches still form by timing), so a change worth a few percent shows up. Each server runs under callgrind with
counting off; after a warm-up, counting is switched on (callgrind_control) for the measured
messages only — same greeting messages, safe mode, SQLite — sent over 10 connections.

Counts are of user-space instructions only (the kernel's part of a system call is not in them)
and a server under valgrind runs ~50 times slower, so batches are smaller than at full speed:
this is a ratio to watch between commits, next to bench/endpoint.py, not a replacement for it.

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


def counted(out: str, pid: int) -> int:
    """Instructions in the dumps callgrind wrote for the process (the summary of each part)."""
    total = 0
    for path in glob.glob(f"{out}.{pid}*"):
        values = [int(line.split()[1]) for line in open(path) if line.startswith(("totals:", "summary:"))]
        total += max(values, default=0)
    return total


async def instructions(kind: str, config: Path, signer: WeChatSigner, requests: int, folder: Path) -> float:
    port = endpoint.free_port()
    out = str(folder / f"callgrind.{kind}")
    process = subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
                                *server_command(kind, port, config)],
                               env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await endpoint.wait_healthy(port, timeout=600)
        await endpoint.drive(port, endpoint.build_requests(200, f"6{kind[0]}0", signer), CONNECTIONS)
        control = ["callgrind_control"]
        subprocess.run([*control, "-i", "on", str(process.pid)], check=True, capture_output=True)
        _, _, errors = await endpoint.drive(port, endpoint.build_requests(requests, f"6{kind[0]}1", signer),
                                            CONNECTIONS)
        subprocess.run([*control, "-i", "off", str(process.pid)], check=True, capture_output=True)
        subprocess.run([*control, "-d", str(process.pid)], check=True, capture_output=True)
        time.sleep(1)  # the dump is written by the process itself
        if errors:
            raise RuntimeError(f"{kind}: {errors} requests failed")
        return counted(out, process.pid) / requests
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
        counts[kind] = await instructions(kind, config, signer, args.requests, folder)
        print(f"{kind:8s} {counts[kind]:,.0f} instructions per message", flush=True)
    if len(counts) == 2:
        print(f"instructions_linli={counts['linli']:.0f} instructions_baseline={counts['baseline']:.0f} "
              f"ratio={counts['baseline'] / counts['linli']:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--only", choices=["linli", "baseline"])
    asyncio.run(main(parser.parse_args()))
