"""The resident simulator: its page, and its API going through the real endpoint over loopback HTTP.

The simulator posts to its own /wechat/<account> over real HTTP, so the app runs on a real
loopback port (aiohttp_server) rather than the in-memory test client.
"""

from __future__ import annotations

import asyncio

import pytest

from bot import texts
from bot.app import create_app
from bot.config import validate
from bot.demo_data import seed
from tests.conftest import late_router, make_settings


async def _serve(aiohttp_server, aiohttp_client, settings, nlu_engine, router=None):
    server = await aiohttp_server(create_app(settings, nlu=nlu_engine, scheduler=False, router=router))
    return await aiohttp_client(server)


def _settings(db_url, api_base, **server):
    return make_settings(db_url, api_base, server={"simulator": True, **server})


@pytest.fixture
async def sim(aiohttp_server, aiohttp_client, db_url, fake_wechat, nlu_engine):
    return await _serve(aiohttp_server, aiohttp_client, _settings(db_url, fake_wechat.base_url), nlu_engine)


async def _send(sim, **body):
    body.setdefault("account", "test")
    body.setdefault("openid", "o_sim")
    response = await sim.post("/simulator/api/send", json=body)
    return response.status, await response.json()


async def test_the_page_and_its_assets_are_served(sim):
    page = await sim.get("/simulator")
    html = await page.text()
    assert page.status == 200 and "居民模拟器" in html
    assert 'src="/simulator/static/app.js"' in html and "https://" not in html  # nothing from a CDN
    js = await sim.get("/simulator/static/app.js")
    css = await sim.get("/simulator/static/style.css")
    assert js.status == 200 and "textContent" in await js.text()
    assert css.status == 200 and css.content_type == "text/css"


async def test_the_page_never_writes_html_from_data(sim):
    js = await (await sim.get("/simulator/static/app.js")).text()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js


async def test_text_goes_through_the_endpoint_and_returns_the_reply(sim):
    status, data = await _send(sim, type="text", content="你好")
    assert status == 200 and data["ok"]
    assert data["reply"] == {"type": "text", "content": texts.GREETING}


async def test_subscribe_returns_the_welcome_with_the_scene(sim):
    _, plain = await _send(sim, type="subscribe", openid="o_sub1")
    _, scanned = await _send(sim, type="subscribe", openid="o_sub2", scene="building:3栋")
    assert plain["reply"]["content"] == texts.WELCOME.format(community="测试社区")
    assert "building:3栋" in scanned["reply"]["content"]


@pytest.mark.parametrize("body, expected", [
    ({"type": "voice", "content": "你好"}, texts.GREETING),
    ({"type": "image"}, texts.IMAGE_RECEIVED),
    ({"type": "location", "label": "襄阳市樊城区示范社区3栋"}, "襄阳市樊城区示范社区3栋"),
])
async def test_other_message_types(sim, body, expected):
    _, data = await _send(sim, **body)
    assert data["ok"] and expected in data["reply"]["content"]


async def test_unsubscribe_has_no_reply_and_menu_clicks_reach_handlers(sim):
    _, gone = await _send(sim, type="unsubscribe", openid="o_gone")
    _, click = await _send(sim, type="click", key="intent:handoff")
    assert gone == {"ok": True, "status": 200, "reply": None, "error": None, "elapsed_ms": gone["elapsed_ms"]}
    assert click["reply"]["content"] == texts.HANDOFF_STARTED


@pytest.mark.parametrize("body", [
    {"type": "fax"},
    {"openid": "bad openid!"},
    {"openid": ""},
    {"type": "click"},
    {"content": "长" * 2001},
])
async def test_bad_requests_are_refused_in_chinese(sim, body):
    status, data = await _send(sim, **body)
    assert status == 400 and not data["ok"] and data["error"]


async def test_send_takes_json_only(sim):
    response = await sim.post("/simulator/api/send", data="type=text&content=hi",
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 415


async def test_unknown_account_is_404(sim):
    status, _ = await _send(sim, account="nope")
    assert status == 404


async def test_config_offers_the_default_menu_when_none_is_configured(sim):
    data = await (await sim.get("/simulator/api/config")).json()
    account = data["accounts"][0]
    keys = {b["key"] for top in account["menu"] for b in [top, *top["sub"]] if b.get("key")}
    assert account["community"] == "测试社区" and account["default_menu"]
    assert {"intent:repair", "intent:complaint", "intent:points_query", "intent:ticket_status",
            "intent:handoff"} <= keys


async def test_config_uses_the_accounts_menu(aiohttp_server, aiohttp_client, db_url, fake_wechat, nlu_engine):
    data = _settings(db_url, fake_wechat.base_url).model_dump()
    data["accounts"][0]["menu"] = [{"name": "报修", "key": "intent:repair"}]
    settings = validate(data)
    sim = await _serve(aiohttp_server, aiohttp_client, settings, nlu_engine)
    data = await (await sim.get("/simulator/api/config")).json()
    assert data["accounts"][0]["menu"] == [{"name": "报修", "type": "click", "key": "intent:repair", "url": "",
                                           "sub": []}]


async def test_residents_lists_the_community(sim, db):
    async with db.sessions.begin() as session:
        await seed(session, slug="test", name="测试社区")
    data = await (await sim.get("/simulator/api/residents?account=test")).json()
    zhang = next(r for r in data["residents"] if r["openid"] == "o_demo_zhang")
    assert zhang == {"openid": "o_demo_zhang", "name": "张建国", "address": "3栋2单元502",
                     "roles": ["member_household"], "subscribed": True}


async def test_inbox_proxies_what_the_fake_api_sent(sim, fake_wechat):
    first = await (await sim.get("/simulator/api/inbox?account=test&openid=o_cs&after=0")).json()
    assert first == {"messages": [], "fake": True}
    fake_wechat._record("o_cs", "text", content="您的工单已受理")
    fake_wechat._record("o_other", "text", content="别人的消息")
    data = await (await sim.get("/simulator/api/inbox?account=test&openid=o_cs&after=0")).json()
    assert [(m["openid"], m["text"]) for m in data["messages"]] == [("o_cs", "您的工单已受理")]
    later = await (await sim.get(f"/simulator/api/inbox?openid=o_cs&after={data['messages'][0]['seq']}")).json()
    assert later["messages"] == []


async def test_a_late_reply_arrives_in_the_inbox(aiohttp_server, aiohttp_client, db_url, fake_wechat, nlu_engine):
    """Past the reply deadline the answer goes out as a customer-service message; the page sees it."""
    settings = _settings(db_url, fake_wechat.base_url, reply_deadline_seconds=0.05)
    sim = await _serve(aiohttp_server, aiohttp_client, settings, nlu_engine, router=late_router(0.3))
    _, data = await _send(sim, type="text", content="你好", openid="o_late")
    assert data["ok"] and data["reply"] is None
    messages = []
    for _ in range(50):
        messages = (await (await sim.get("/simulator/api/inbox?openid=o_late&after=0")).json())["messages"]
        if messages:
            break
        await asyncio.sleep(0.1)
    assert [m["text"] for m in messages] == [texts.GREETING]


async def test_inbox_is_empty_when_the_api_is_not_a_fake(aiohttp_server, aiohttp_client, db_url, nlu_engine):
    settings = _settings(db_url, "http://127.0.0.1:9")  # nothing listens there
    sim = await _serve(aiohttp_server, aiohttp_client, settings, nlu_engine)
    data = await (await sim.get("/simulator/api/inbox?openid=o_x&after=0")).json()
    assert data == {"messages": [], "fake": False}


async def test_not_mounted_when_disabled(aiohttp_client, db_url, fake_wechat, nlu_engine):
    settings = make_settings(db_url, fake_wechat.base_url, server={"simulator": False})
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, scheduler=False))
    assert (await client.get("/simulator")).status == 404
    assert (await client.post("/simulator/api/send", json={})).status in (404, 405)
