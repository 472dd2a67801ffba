"""The fake WeChat server behaves like the real one where Linli depends on it."""

from __future__ import annotations

import aiohttp
import pytest

from bot.wechat.fake_api import SAMPLE_JPEG, SAMPLE_MEDIA_ID


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


async def stable(http, fake, force=False, appid="wxA", secret="s"):
    body = {"grant_type": "client_credential", "appid": appid, "secret": secret, "force_refresh": force}
    async with http.post(fake.base_url + "/cgi-bin/stable_token", json=body) as response:
        return await response.json()


async def send(http, fake, token, openid="o1", content="你好"):
    body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
    async with http.post(fake.base_url + "/cgi-bin/message/custom/send", params={"access_token": token},
                         json=body) as response:
        return await response.json()


async def test_stable_token_reuses_until_forced(http, fake_wechat):
    first = await stable(http, fake_wechat)
    assert first["expires_in"] == 7200
    assert (await stable(http, fake_wechat))["access_token"] == first["access_token"]
    forced = await stable(http, fake_wechat, force=True)
    assert forced["access_token"] != first["access_token"]
    assert (await send(http, fake_wechat, first["access_token"]))["errcode"] == 40001
    assert (await send(http, fake_wechat, forced["access_token"]))["errcode"] == 0
    assert fake_wechat.token_fetches == 3


async def test_stable_token_renews_in_last_five_minutes(http, fake_wechat):
    now = [1_000_000.0]
    fake_wechat.clock = lambda: now[0]
    first = await stable(http, fake_wechat)
    now[0] += 7200 - 200
    second = await stable(http, fake_wechat)
    assert second["access_token"] != first["access_token"] and second["expires_in"] == 7200
    assert (await send(http, fake_wechat, first["access_token"]))["errcode"] == 0  # both valid for a while
    now[0] += 300
    assert (await send(http, fake_wechat, first["access_token"]))["errcode"] == 42001


async def test_basic_token_invalidates_previous(http, fake_wechat):
    params = {"grant_type": "client_credential", "appid": "wxA", "secret": "s"}
    async with http.get(fake_wechat.base_url + "/cgi-bin/token", params=params) as response:
        first = (await response.json())["access_token"]
    async with http.get(fake_wechat.base_url + "/cgi-bin/token", params=params) as response:
        second = (await response.json())["access_token"]
    assert (await send(http, fake_wechat, first))["errcode"] == 40001
    assert (await send(http, fake_wechat, second))["errcode"] == 0


async def test_registered_accounts_only(http, fake_wechat):
    fake_wechat.register("wxA", "right")
    assert (await stable(http, fake_wechat, appid="wxB", secret="right"))["errcode"] == 40013
    assert (await stable(http, fake_wechat, appid="wxA", secret="wrong"))["errcode"] == 40125
    assert "access_token" in await stable(http, fake_wechat, appid="wxA", secret="right")


async def test_faults_and_inspection(http, fake_wechat):
    token = (await stable(http, fake_wechat))["access_token"]
    fake_wechat.fail_next("custom/send", 45009)
    assert (await send(http, fake_wechat, token))["errcode"] == 45009
    fake_wechat.outside_window.add("o_far")
    assert (await send(http, fake_wechat, token, "o_far"))["errcode"] == 45015
    assert (await send(http, fake_wechat, token, "o1", "一"))["errcode"] == 0
    assert (await send(http, fake_wechat, token, "o2", "二"))["errcode"] == 0
    fake_wechat.expire_tokens(code=42001)
    assert (await send(http, fake_wechat, token))["errcode"] == 42001
    async with http.get(fake_wechat.base_url + "/_fake/sent", params={"openid": "o1", "after": "0"}) as response:
        items = await response.json()
    assert [item["content"] for item in items] == ["一"]
    async with http.get(fake_wechat.base_url + "/_fake/sent", params={"after": str(items[0]["seq"])}) as response:
        assert [item["content"] for item in await response.json()] == ["二"]
    fake_wechat.unreachable = True
    async with http.post(fake_wechat.base_url + "/cgi-bin/message/custom/send") as response:
        assert response.status == 503
    async with http.post(fake_wechat.base_url + "/_fake/reset") as response:
        assert response.status == 200
    assert fake_wechat.sent == [] and not fake_wechat.unreachable


async def test_media(http, fake_wechat):
    token = (await stable(http, fake_wechat))["access_token"]
    url = fake_wechat.base_url + "/cgi-bin/media/get"
    async with http.get(url, params={"access_token": token, "media_id": SAMPLE_MEDIA_ID}) as response:
        assert response.content_type == "image/jpeg" and await response.read() == SAMPLE_JPEG
    async with http.post(fake_wechat.base_url + "/_fake/media", data=b"\xff\xd8png?",
                         headers={"Content-Type": "image/png"}) as response:
        media_id = (await response.json())["media_id"]
    async with http.get(url, params={"access_token": token, "media_id": media_id}) as response:
        assert response.content_type == "image/png"
    async with http.get(url, params={"access_token": token, "media_id": "missing"}) as response:
        assert (await response.json())["errcode"] == 40007
