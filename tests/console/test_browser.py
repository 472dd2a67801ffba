"""End to end in Debian's Chromium, driven by Playwright: the real app on a loopback port with the
fake WeChat API and the outbox worker running.

- a ticket filed through the WeChat endpoint is opened in the console, answered, and the answer
  arrives on the fake WeChat API;
- an escalated thread is taken over, a new message from the resident appears live, staff answer,
  the answer arrives, and the thread is closed.

Screenshots of the main pages (1366×768, and the inbox on a phone) are saved under
test-output/screenshots/ for review. Chromium is never downloaded: the tests use /usr/bin/chromium
(installed by .ci/run) and are skipped, saying so, where it is missing.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot import keys
from tests.console.conftest import PASSWORD, console_settings, seed_place

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]

playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


@pytest.fixture
async def live(db_url, fake_wechat, nlu_engine):
    """The whole app on 127.0.0.1:<free port>, real clock, outbox worker on, scheduler off."""
    from bot.app import create_app

    settings = console_settings(db_url, fake_wechat.base_url)
    settings.console.live_poll_seconds = 0.2
    server = TestServer(create_app(settings, nlu=nlu_engine, scheduler=False), host="127.0.0.1")
    await server.start_server()
    services = server.app[keys.SERVICES]
    place = await seed_place(services)
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as http:
        yield Live(server, services, place, http, settings)
    await server.close()


class Live:
    def __init__(self, server, services, place, http, settings) -> None:
        self.server, self.services, self.place, self.http, self.settings = server, services, place, http, settings

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def resident(self, openid: str):
        from tests.wechat_client import WeChatClient

        return WeChatClient(self.http, self.settings.accounts[0]).resident(openid)


@pytest.fixture
async def browser(tmp_path):
    async with playwright_api.async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1366, "height": 768}, locale="zh-CN", timezone_id="Asia/Shanghai")
        try:
            yield context
        finally:
            await context.close()


async def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def log_in(page, live: Live, username: str = "staff") -> None:
    await page.goto(live.url("/console/"))
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(PASSWORD)
    await shot(page, "01-login")
    await page.get_by_role("button", name="登录").click()
    await page.wait_for_url("**/console/tickets")


async def arrived(fake_wechat, openid: str, content: str) -> None:
    """Wait until the fake WeChat API has received the text (the outbox worker runs by itself)."""
    for _ in range(200):
        if any(m.get("content") == content for m in fake_wechat.sent_to(openid)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{content!r} never reached {openid}: {fake_wechat.sent_to(openid)}")


def png(width: int = 160, height: int = 120, rgb: tuple[int, int, int] = (70, 110, 160)) -> bytes:
    """A plain PNG, standing in for the photo WeChat keeps at the message's PicUrl."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.fixture
async def photo_host():
    """A loopback server holding the resident's photo (WeChat's picture host in real life)."""
    from aiohttp import web

    async def photo(_request: web.Request) -> web.Response:
        return web.Response(body=png(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/lamp.png", photo)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/lamp.png"))
    await server.close()


async def file_a_ticket(live: Live, photo_url: str) -> None:
    """The resident reports through the endpoint, as in tests/tickets_chat (registered address)."""
    chat = live.resident("o_zhang")
    for said in ("3栋楼道灯坏了，晚上很黑", "是"):
        await chat.say(said)
    await chat.send("image", {"PicUrl": photo_url, "MediaId": "media_lamp"})
    await chat.say("1")
    filed = await chat.say("确认")
    assert "工单" in filed, filed


async def test_answer_a_ticket_from_the_console(live, browser, fake_wechat, photo_host):
    await file_a_ticket(live, photo_host)
    page = await browser.new_page()
    console_errors = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    await log_in(page, live)
    await page.get_by_text("3栋楼道灯坏了").first.wait_for()
    await shot(page, "02-inbox")
    await page.get_by_label("等级").select_option("blue")  # htmx swaps the results in place
    await page.wait_for_url("**grade=blue**")
    await page.locator("#results a[href^='/console/tickets/']").first.click()
    await page.get_by_role("heading", name="处理记录").wait_for()
    assert await page.get_by_text("3栋楼道灯坏了，晚上很黑").count() >= 1
    await page.get_by_label("回复张建国（通过公众号发送）").fill("您好，电工今天下午来修，请保持电话畅通。")
    await page.get_by_role("button", name="发送回复").click()
    await page.get_by_text("回复已放入发送队列。").wait_for()
    await arrived(fake_wechat, "o_zhang", "您好，电工今天下午来修，请保持电话畅通。")
    await page.reload()
    await page.locator(".thread .badge.sent").first.wait_for()
    assert await page.locator(".photos img").evaluate("img => img.complete && img.naturalWidth") == 160
    await shot(page, "03-ticket")
    await page.goto(live.url("/console/dashboard"))
    await page.locator(".chart svg").first.wait_for()
    await shot(page, "05-dashboard")
    await page.goto(live.url("/console/manage"))
    await shot(page, "07-manage")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(live.url("/console/tickets"))
    await shot(page, "08-inbox-phone")
    assert await page.locator("#results tbody tr").first.evaluate("tr => getComputedStyle(tr).display") == "block"
    for path, name in (("/console/manage/faq", "09-faq-phone"), ("/console/threads", "10-threads-phone"),
                       (f"/console/manage/residents/{live.place.residents['o_mh']}", "11-resident-phone"),
                       ("/console/manage/codes", "12-codes-phone"), ("/console/dashboard", "13-dashboard-phone")):
        await page.goto(live.url(path))
        await shot(page, name)
        assert await fits(page), f"{path} is wider than the phone"
    await page.goto(live.url(f"/console/manage/residents/{live.place.residents['o_mh']}"))
    assert await page.locator("fieldset.checks input[name=cared]").count() == 8  # a checkbox per building, no <select multiple>
    assert await page.locator("select[multiple]").count() == 0
    assert not console_errors, console_errors  # no script errors, no CSP violations


async def fits(page) -> bool:
    """Nothing on the page sticks out to the right of a phone's screen."""
    return await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


async def test_take_over_an_escalated_thread_and_answer(live, browser, fake_wechat):
    chat = live.resident("o_wang")
    await chat.say("转人工")
    await chat.say("我想问一下物业费的事")
    page = await browser.new_page()
    await log_in(page, live)
    await page.get_by_role("link", name="人工会话").click()
    await page.get_by_text("我想问一下物业费的事").wait_for()
    await shot(page, "04-threads")
    await page.get_by_role("link", name="打开").click()
    await page.get_by_role("button", name="接管会话").click()
    await page.get_by_text("已接管会话").first.wait_for()
    await page.get_by_text("实时更新中").wait_for()
    await chat.say("<b>今年</b>物业费涨了吗？")  # arrives live, as text
    await page.locator(".thread li.in").filter(has_text="<b>今年</b>物业费涨了吗？").wait_for()
    await page.get_by_label("回复居民").fill("没有涨，还是每月每平方米1.2元。")
    await page.get_by_role("button", name="发送").click()
    await arrived(fake_wechat, "o_wang", "没有涨，还是每月每平方米1.2元。")
    await page.locator(".thread li.out").filter(has_text="没有涨").first.wait_for()
    await shot(page, "06-thread")
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.get_by_role("button", name="结束会话").click()
    await page.get_by_text("会话已结束，居民回到自助服务。").wait_for()
    assert await chat.say("你好") is not None  # the bot answers again
