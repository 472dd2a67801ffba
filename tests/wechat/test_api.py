"""The async API client against the fake WeChat server: bodies, token retry, network errors."""

from __future__ import annotations

import aiohttp
import pytest

from bot.wechat.api import TokenFetchError, WeChatApi, WeChatApiError, WeChatUnavailable
from bot.wechat.fake_api import SAMPLE_JPEG
from bot.wechat.token import TokenManager
from tests.conftest import TEST_APPID, TEST_SECRET


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(db, http, fake_wechat) -> WeChatApi:
    fake_wechat.register(TEST_APPID, TEST_SECRET)
    tokens = TokenManager(db, http, base_url=fake_wechat.base_url, appid=TEST_APPID, secret=TEST_SECRET, timeout=2)
    return WeChatApi(http, base_url=fake_wechat.base_url, tokens=tokens, timeout=2)


def last_call(fake, path):
    return [call for call in fake.calls if call[0] == path][-1]


async def test_send_text_keeps_chinese_unescaped(api, fake_wechat):
    assert await api.send_text("o_resident", "您的工单已受理") == {"errcode": 0, "errmsg": "ok"}
    path, query, body = last_call(fake_wechat, "/cgi-bin/message/custom/send")
    assert body == {"touser": "o_resident", "msgtype": "text", "text": {"content": "您的工单已受理"}}
    assert query["access_token"].startswith("FAKE_TOKEN_")
    raw = fake_wechat.raw_bodies[fake_wechat.calls.index((path, query, body))]
    assert "您的工单已受理" in raw and "\\u" not in raw
    assert fake_wechat.sent_to("o_resident")[0]["content"] == "您的工单已受理"


async def test_send_image_template_subscribe(api, fake_wechat):
    await api.send_image("o1", "MEDIA1")
    assert last_call(fake_wechat, "/cgi-bin/message/custom/send")[2]["image"] == {"media_id": "MEDIA1"}
    data = {"first": {"value": "工单进展"}, "keyword1": {"value": "已派单"}}
    result = await api.send_template("o1", "TPL", data, url="https://example.org/t/1")
    assert result["msgid"]
    body = last_call(fake_wechat, "/cgi-bin/message/template/send")[2]
    assert body == {"touser": "o1", "template_id": "TPL", "data": data, "url": "https://example.org/t/1"}
    await api.send_subscribe("o1", "SUB", {"thing1": {"value": "活动提醒"}}, page="pages/a")
    body = last_call(fake_wechat, "/cgi-bin/message/subscribe/bizsend")[2]
    assert body == {"touser": "o1", "template_id": "SUB", "data": {"thing1": {"value": "活动提醒"}}, "page": "pages/a"}
    assert [item["kind"] for item in fake_wechat.sent_to("o1")] == ["image", "template", "subscribe"]


async def test_media_menu_and_user_info(api, fake_wechat):
    media_id = fake_wechat.add_media(SAMPLE_JPEG)
    assert await api.download_media(media_id) == (SAMPLE_JPEG, "image/jpeg")
    with pytest.raises(WeChatApiError) as info:
        await api.download_media("nope")
    assert info.value.errcode == 40007
    menu = {"button": [{"type": "click", "name": "我要报事", "key": "REPORT"}]}
    assert (await api.create_menu(menu))["errcode"] == 0
    assert fake_wechat.menus == [menu]
    user = await api.user_info("o_abcd")
    assert user["subscribe"] == 1 and user["openid"] == "o_abcd"
    assert last_call(fake_wechat, "/cgi-bin/user/info")[1]["lang"] == "zh_CN"


async def test_rejected_token_is_refetched_once(api, fake_wechat, caplog):
    caplog.set_level("DEBUG", logger="linli")
    await api.send_text("o1", "第一条")
    assert fake_wechat.token_fetches == 1
    fake_wechat.expire_tokens()
    await api.send_text("o1", "第二条")
    assert fake_wechat.token_fetches == 2
    stable = [body for path, _q, body in fake_wechat.calls if path == "/cgi-bin/stable_token"]
    assert stable[-1]["force_refresh"] is True
    assert [item["content"] for item in fake_wechat.sent_to("o1")] == ["第一条", "第二条"]
    tokens = [query["access_token"] for path, query, _b in fake_wechat.calls if "access_token" in query]
    assert all(token not in caplog.text for token in tokens) and TEST_SECRET not in caplog.text


async def test_expired_token_42001_is_refetched(api, fake_wechat):
    await api.send_text("o1", "a")
    fake_wechat.expire_tokens(code=42001)
    await api.send_text("o1", "b")
    assert len(fake_wechat.sent_to("o1")) == 2


async def test_second_consecutive_rejection_raises(api, fake_wechat):
    await api.send_text("o1", "warm up")
    fake_wechat.fail_next("/message/custom/send", 40001, times=2)
    with pytest.raises(WeChatApiError) as info:
        await api.send_text("o1", "never")
    assert info.value.errcode == 40001
    assert fake_wechat.token_fetches == 2
    assert len(fake_wechat.sent_to("o1")) == 1


async def test_other_errcodes_raise_without_refetch(api, fake_wechat):
    fake_wechat.outside_window.add("o_far")
    with pytest.raises(WeChatApiError) as info:
        await api.send_text("o_far", "hi")
    assert info.value.errcode == 45015
    assert fake_wechat.token_fetches == 1


async def test_unreachable_server_is_unavailable(api, fake_wechat):
    await api.send_text("o1", "warm up")
    fake_wechat.unreachable = True
    with pytest.raises(WeChatUnavailable):
        await api.send_text("o1", "hi")


async def test_network_down_is_unavailable(db, http):
    tokens = TokenManager(db, http, base_url="http://127.0.0.1:9", appid=TEST_APPID, secret=TEST_SECRET, timeout=1)
    api = WeChatApi(http, base_url="http://127.0.0.1:9", tokens=tokens, timeout=1)
    with pytest.raises(WeChatUnavailable) as info:
        await api.send_text("o1", "hi")
    assert "secret" not in str(info.value) and TEST_SECRET not in str(info.value)


async def test_timeout_is_unavailable(api, fake_wechat):
    await api.send_text("o1", "warm up")
    api._timeout = 0.05
    fake_wechat.delay = 0.2
    with pytest.raises(WeChatUnavailable):
        await api.send_text("o1", "slow")


async def test_non_json_answer_is_unavailable(api, fake_wechat, monkeypatch):
    from bot.wechat import http as wechat_http

    async def html(*_args, **_kwargs):
        return b"<html>gateway</html>", "text/html"

    await api.send_text("o1", "warm up")
    monkeypatch.setattr("bot.wechat.api.exchange", html)
    assert wechat_http.exchange is not html
    with pytest.raises(WeChatUnavailable):
        await api.send_text("o1", "x")


async def test_wrong_secret_is_an_api_error(db, http, fake_wechat):
    fake_wechat.register(TEST_APPID, TEST_SECRET)
    tokens = TokenManager(db, http, base_url=fake_wechat.base_url, appid=TEST_APPID, secret="wrong", timeout=2)
    with pytest.raises(WeChatApiError) as info:
        await tokens.get()
    assert info.value.errcode == 40125 and isinstance(info.value, TokenFetchError)
