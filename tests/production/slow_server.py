"""A real Linli server whose handling of one marker text waits, so a test can kill it mid-message.

    python -m tests.production.slow_server --config FILE --port N --gate DIR [--marker TEXT]

The app is bot.app.create_app with the product's router (handlers.build_router) included after
one extra route: a text equal to the marker writes ``DIR/started-<pid>`` (the test now knows
this process is inside the handler), waits until ``DIR/release`` exists (at most 30 s), appends
its pid to ``DIR/completed`` and answers. Everything else — admission, dedup, heartbeat, the
reply record — is the product's, which is what the kill test is about.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

from aiohttp import web

from bot.app import create_app
from bot.config import load_settings
from bot.dispatcher.router import Router
from bot.logs import setup_logging
from bot.replies import Text
from handlers import build_router

MARKER = "慢慢处理这条"
WAIT_SECONDS = 30.0


def answer(text: str) -> str:
    return f"已处理：{text}"


def slow_router(marker: str, gate: Path) -> Router:
    router = Router("slow")

    @router.on(lambda ctx: ctx.text == marker, kind="text")
    async def slow(ctx):
        (gate / f"started-{os.getpid()}").touch()
        loop = asyncio.get_running_loop()
        until = loop.time() + WAIT_SECONDS
        while not (gate / "release").exists() and loop.time() < until:
            await asyncio.sleep(0.02)
        with (gate / "completed").open("a") as completed:
            completed.write(f"{os.getpid()}\n")
        return Text(answer(ctx.text))

    router.include(build_router())
    return router


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--gate", required=True)
    parser.add_argument("--marker", default=MARKER)
    args = parser.parse_args()
    settings = load_settings(args.config)
    setup_logging(settings.log)
    app = create_app(settings, scheduler=False, router=slow_router(args.marker, Path(args.gate)))
    web.run_app(app, host="127.0.0.1", port=args.port, print=lambda msg: logging.getLogger("linli").info(msg))


if __name__ == "__main__":
    main()
