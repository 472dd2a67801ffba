"""Hostile or broken requests: a clean 4xx (or a polite reply), never a 500 or a hang, and nothing
written to the database before the signature is good."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from bot.wechat.simulate import WeChatSigner, message_xml
from storage.models import MessageLog, ProcessedMessage, Resident

BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
                  '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
                  '<xml><ToUserName>t</ToUserName><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime>'
                  '<MsgType>text</MsgType><Content>&c;</Content><MsgId>1</MsgId></xml>')
EXTERNAL_ENTITY = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                   '<xml><ToUserName>t</ToUserName><FromUserName>o_x</FromUserName><CreateTime>1</CreateTime>'
                   '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>2</MsgId></xml>')


async def _nothing_written(db) -> bool:
    async with db.sessions() as session:
        counts = [await session.scalar(select(func.count()).select_from(m))
                  for m in (ProcessedMessage, MessageLog, Resident)]
    return counts == [0, 0, 0]


def _text(openid="o_bad", content="你好") -> str:
    return message_xml(openid, "gh_test", "text", {"Content": content})


async def _post(app_client, params, body: bytes):
    response = await app_client.post("/wechat/test", params=params, data=body)
    return response.status, await response.text()


async def test_wrong_signature_is_refused_with_no_work_done(app_client, settings, db):
    signed = WeChatSigner(settings.accounts[0]).sign_post(_text())
    params = dict(signed.params, msg_signature="0" * 40)
    assert (await _post(app_client, params, signed.body))[0] == 403
    assert await _nothing_written(db)


async def test_missing_signature_is_refused(app_client, settings, db):
    signed = WeChatSigner(settings.accounts[0]).sign_post(_text())
    assert (await _post(app_client, {"timestamp": signed.params["timestamp"]}, signed.body))[0] == 403
    assert (await _post(app_client, {}, signed.body))[0] == 403
    assert await _nothing_written(db)


async def test_stale_timestamp_is_refused(app_client, settings, db):
    old = WeChatSigner(settings.accounts[0], clock=lambda: time.time() - 3600).sign_post(_text())
    assert (await _post(app_client, old.params, old.body))[0] == 403
    assert await _nothing_written(db)


async def test_safe_mode_refuses_plaintext_messages(app_client, settings, db):
    plain = WeChatSigner(settings.accounts[0], encrypt=False).sign_post(_text())
    assert (await _post(app_client, plain.params, plain.body))[0] == 403
    assert await _nothing_written(db)


async def test_get_verification_echoes_only_with_a_good_signature(app_client, settings):
    params = WeChatSigner(settings.accounts[0]).sign_get("echo-123")
    response = await app_client.get("/wechat/test", params=params)
    assert response.status == 200 and await response.text() == "echo-123"
    response = await app_client.get("/wechat/test", params=dict(params, signature="f" * 40))
    assert response.status == 403


async def test_unknown_account_is_404(app_client, settings):
    signed = WeChatSigner(settings.accounts[0]).sign_post(_text())
    response = await app_client.post("/wechat/nobody", params=signed.params, data=signed.body)
    assert response.status == 404


@pytest.mark.parametrize("outer", [b"<xml><Encrypt>", b"not xml at all", b"", b"<xml></xml>",
                                   "<xml><Encrypt>中文</Encrypt></xml>".encode("gbk")])
async def test_malformed_outer_body_is_a_400(app_client, settings, db, outer):
    signed = WeChatSigner(settings.accounts[0]).sign_post(_text())
    assert (await _post(app_client, signed.params, outer))[0] == 400
    assert await _nothing_written(db)


@pytest.mark.parametrize("inner", [
    "<xml><FromUserName>o</FromUserName>",                       # truncated
    "<xml><ToUserName>t</ToUserName><MsgType>text</MsgType></xml>",  # no sender
    "<xml><FromUserName>o</FromUserName></xml>",                 # no type
    "<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><CreateTime>soon</CreateTime></xml>",
    "<notxml/>",
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
])
async def test_malformed_or_hostile_message_xml_is_a_400(app_client, settings, db, inner):
    signed = WeChatSigner(settings.accounts[0]).sign_post(inner)
    assert (await _post(app_client, signed.params, signed.body))[0] == 400
    assert await _nothing_written(db)


async def test_plaintext_mode_entity_tricks_are_refused(aiohttp_client, db_url, fake_wechat, nlu_engine, db):
    from bot.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(db_url, fake_wechat.base_url)
    settings.accounts[0].encryption = "plain"
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, scheduler=False))
    signer = WeChatSigner(settings.accounts[0], encrypt=False)
    for body in (BILLION_LAUGHS, EXTERNAL_ENTITY):
        signed = signer.sign_post(body)
        assert (await _post(client, signed.params, signed.body))[0] == 400
    non_utf8 = signer.sign_post(_text())
    assert (await _post(client, non_utf8.params, _text(content="中文").encode("gbk")))[0] == 400
    assert await _nothing_written(db)


async def test_message_encrypted_with_an_unknown_key_is_a_400(app_client, settings, db):
    stranger = settings.accounts[0].model_copy(update={"encoding_aes_key": "Z" * 42 + "A"})
    signed = WeChatSigner(stranger).sign_post(_text())
    assert (await _post(app_client, signed.params, signed.body))[0] == 400
    assert await _nothing_written(db)


async def test_oversize_body_is_a_413(app_client, settings, db):
    signed = WeChatSigner(settings.accounts[0]).sign_post(_text(content="长" * 40_000))
    assert len(signed.body) > settings.server.max_body_bytes
    assert (await _post(app_client, signed.params, signed.body))[0] == 413
    assert await _nothing_written(db)


async def test_previous_encoding_aes_key_still_accepted(wechat, settings):
    old = settings.accounts[0].model_copy(update={"encoding_aes_key": settings.accounts[0].previous_encoding_aes_key})
    signer = WeChatSigner(old)  # WeChat still has the old key: the rotation is half done
    signed = signer.sign_post(_text(openid="o_rotated"))
    response = await wechat.client.post("/wechat/test", params=signed.params, data=signed.body)
    assert response.status == 200 and "<Encrypt>" in (body := await response.text())
    assert signer.open_reply(body)["MsgType"] == "text"  # sealed with the key WeChat can read
