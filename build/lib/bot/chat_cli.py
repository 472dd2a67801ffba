"""`linli chat`: be a resident in a terminal, through the real endpoint over HTTP.

Each line goes out exactly as WeChat would send it (signed, encrypted in safe mode) and the
passive reply is printed. Customer-service messages that arrive later are polled in the
background: from the server's simulator inbox (which knows where the fake WeChat API is, even
when `linli demo` moved it to a new port), else from settings.wechat.base_url directly.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

import aiohttp

from bot.config import AccountSettings, Settings
from bot.simulator.client import Outgoing, deliver, describe_sent, fetch_fake_sent

PROMPT = "你："
POLL_SECONDS = 1.5
HELP = ("可用命令：/voice 文字（语音）  /image（图片）  /location 地点  /subscribe [场景]  "
        "/unsubscribe  /click KEY（菜单）  /help  /quit")


class Quit(Exception):
    """The resident typed /quit."""


def parse_line(line: str) -> Outgoing | None:
    """'/voice 灯坏了' → a voice message; plain text → a text message. Raises Quit, ValueError."""
    text = line.strip()
    if not text:
        return None
    if not text.startswith("/"):
        return Outgoing("text", content=text)
    name, _, arg = text[1:].partition(" ")
    arg = arg.strip()
    name = name.lower()
    if name in ("quit", "exit", "q"):
        raise Quit
    if name == "voice":
        if not arg:
            raise ValueError("用法：/voice 要说的话")
        return Outgoing("voice", content=arg)
    if name == "image":
        return Outgoing("image")
    if name == "location":
        return Outgoing("location", label=arg)
    if name == "subscribe":
        return Outgoing("subscribe", scene=arg)
    if name == "unsubscribe":
        return Outgoing("unsubscribe")
    if name == "click":
        if not arg:
            raise ValueError("用法：/click 菜单KEY，例如 /click intent:repair")
        return Outgoing("click", key=arg)
    raise ValueError(HELP)


def _account(settings: Settings, name: str | None) -> AccountSettings:
    account = settings.accounts[0] if not name else settings.account(name)
    if account is None:
        raise SystemExit(f"no account named {name!r} in the config")
    return account


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
    """Read lines in a daemon thread (input() blocks), so Ctrl-C never waits for Enter."""
    def reader() -> None:
        while True:
            try:
                line = input()
            except (EOFError, KeyboardInterrupt):
                loop.call_soon_threadsafe(queue.put_nowait, None)
                return
            loop.call_soon_threadsafe(queue.put_nowait, line)
    threading.Thread(target=reader, name="linli-chat-stdin", daemon=True).start()


class ChatSession:
    """One resident talking; `out` prints (tests capture it)."""

    def __init__(self, http: aiohttp.ClientSession, settings: Settings, url: str, account: AccountSettings,
                 openid: str, out: Callable[[str], None]) -> None:
        self.http, self.settings, self.url = http, settings, url.rstrip("/")
        self.account, self.openid, self.out = account, openid, out
        self.after: int | None = None

    async def say(self, line: str) -> None:
        """Send one typed line and print the passive reply (or why there is none)."""
        try:
            command = parse_line(line)
        except ValueError as exc:
            self.out(str(exc))
            return
        if command is None:
            return
        command.pic_url = f"{self.url}/simulator/media/sample.jpg"
        delivery = await deliver(self.http, self.url, self.account, self.openid, command)
        if delivery.error:
            self.out(f"（{delivery.error}）")
        elif delivery.reply:
            self.out(f"邻里：{_reply_text(delivery.reply)}")

    async def poll(self) -> list[str]:
        """Print customer-service messages that arrived since the last look; the first look only primes."""
        items = await self._sent(self.after or 0)
        if items is None:
            return []
        lines = []
        for item in sorted(items, key=lambda i: i["seq"]):
            if item["seq"] <= (self.after or 0):
                continue
            if self.after is not None:
                lines.append(f"邻里（客服消息）：{describe_sent(item)}")
            self.after = item["seq"]
        self.after = self.after or 0
        for line in lines:
            self.out(line)
        return lines

    async def _sent(self, after: int) -> list[dict[str, Any]] | None:
        params = {"account": self.account.name, "openid": self.openid, "after": str(after)}
        try:
            async with self.http.get(f"{self.url}/simulator/api/inbox", params=params,
                                     timeout=aiohttp.ClientTimeout(total=3)) as response:
                if response.status == 200:
                    data = await response.json(content_type=None)
                    return [m for m in data.get("messages", []) if isinstance(m.get("seq"), int)]
        except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError):
            pass
        return await fetch_fake_sent(self.http, self.settings.wechat.base_url, self.openid, after)


def _reply_text(reply: dict[str, Any]) -> str:
    return "[图片]" if reply.get("type") == "image" else str(reply.get("content") or "")


async def _poll_forever(session: ChatSession) -> None:
    while True:
        await asyncio.sleep(POLL_SECONDS)
        if await session.poll():
            print(PROMPT, end="", flush=True)


async def run_chat(settings: Settings, url: str | None = None, account_name: str | None = None,
                   openid: str = "o_demo_terminal") -> None:
    """The interactive loop behind `linli chat`."""
    account = _account(settings, account_name)
    url = url or f"http://{settings.server.host}:{settings.server.port}"
    print(f"邻里 终端聊天 · 公众号 {account.name} · 居民 {openid} · 服务器 {url}")
    print(HELP)
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    _stdin_lines(asyncio.get_running_loop(), queue)
    async with aiohttp.ClientSession() as http:
        session = ChatSession(http, settings, url, account, openid, out=lambda text: print(f"\r{text}"))
        await session.poll()
        poller = asyncio.create_task(_poll_forever(session))
        try:
            await _loop(session, queue)
        finally:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)


async def _loop(session: ChatSession, queue: asyncio.Queue) -> None:
    while True:
        print(PROMPT, end="", flush=True)
        line = await queue.get()
        if line is None:
            print()
            return
        try:
            await session.say(line)
        except Quit:
            return
