"""Protocol conformance against the official samples in tests/fixtures/wechat-samples.

The fixtures are copies of WeChat's own examples and Tencent's sample-code vectors (sources in
that folder's README), so these tests check us against the platform, not against ourselves.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import AccountSettings
from bot.wechat.codec import AccountCodec, Query, SignatureError, parse_event, sign, signature_matches

SAMPLES = Path(__file__).parent.parent / "fixtures" / "wechat-samples"


def _load(name: str) -> dict:
    return json.loads((SAMPLES / "crypto" / name).read_text(encoding="utf-8"))


def _xml(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


EXPECTED = {
    "messages/text.xml": dict(kind="text", text="this is a test", msg_id="1234567890123456", openid="fromUser"),
    "messages/image.xml": dict(kind="image", media_id="media_id", media_url="this is a url"),
    "messages/voice.xml": dict(kind="voice", text=None, media_id="media_id"),
    "messages/voice_with_recognition.xml": dict(kind="voice", text="Meow~"),
    "messages/video.xml": dict(kind="video", media_id="media_id"),
    "messages/location.xml": dict(kind="location"),
    "messages/link.xml": dict(kind="link"),
    "messages/unknown_type.xml": dict(kind="unknown"),
    "events/subscribe.xml": dict(kind="event", event="subscribe", scene=None, openid="FromUser"),
    "events/subscribe_qrscene.xml": dict(kind="event", event="subscribe", scene="123123"),
    "events/unsubscribe.xml": dict(kind="event", event="unsubscribe"),
    "events/scan.xml": dict(kind="event", event="scan", scene="SCENE_VALUE"),
    "events/click.xml": dict(kind="event", event="click", event_key="EVENTKEY"),
    "events/view.xml": dict(kind="event", event="view", event_key="www.qq.com"),
    "events/location_report.xml": dict(kind="event", event="location"),
    "events/location_select.xml": dict(kind="event", event="other", event_name="location_select"),
    "events/scancode_push.xml": dict(kind="event", event="other", event_name="scancode_push"),
    "events/scancode_waitmsg.xml": dict(kind="event", event="other"),
    "events/template_send_job_finish.xml": dict(kind="event", event="other", event_name="TEMPLATESENDJOBFINISH"),
    "events/subscribe_msg_popup_event.xml": dict(kind="event", event="other"),
}


def test_every_sample_is_covered():
    on_disk = {str(p.relative_to(SAMPLES)) for p in SAMPLES.glob("*/*.xml") if p.parent.name in ("messages", "events")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_parses_to_the_right_event(name):
    event = parse_event(_xml(name), "test")
    for field, value in EXPECTED[name].items():
        assert getattr(event, field) == value, field


def test_location_message_keeps_coordinates_and_label():
    event = parse_event(_xml("messages/location.xml"), "test")
    assert (event.location.latitude, event.location.longitude, event.location.label) == (23.134521, 113.358803, "位置信息")


def test_location_report_event_keeps_coordinates():
    event = parse_event(_xml("events/location_report.xml"), "test")
    assert (event.location.latitude, event.location.longitude) == (23.137466, 113.352425)


def test_link_message_fields():
    event = parse_event(_xml("messages/link.xml"), "test")
    assert event.link == {"title": "公众平台官网链接", "description": "公众平台官网链接", "url": "url"}


def test_events_dedup_by_sender_and_time_messages_by_msgid():
    assert parse_event(_xml("messages/text.xml"), "test").dedup_key == "m:1234567890123456"
    assert parse_event(_xml("events/subscribe.xml"), "test").dedup_key == "e:FromUser:123456789:subscribe"


@pytest.mark.parametrize("vector", _load("plaintext_signature_vectors.json")["vectors"])
def test_plaintext_signature_vectors(vector):
    assert sign(vector["token"], vector["timestamp"], vector["nonce"]) == vector["signature"]
    assert signature_matches(vector["signature"], vector["token"], vector["timestamp"], vector["nonce"])
    if "bad_signature_should_fail" in vector:
        assert not signature_matches(vector["bad_signature_should_fail"], vector["token"],
                                     vector["timestamp"], vector["nonce"])


def _codec(token: str, key: str, appid: str, now: str, previous: str = "") -> AccountCodec:
    account = AccountSettings(name="sample", community="c", appid=appid, token=token, encoding_aes_key=key,
                              previous_encoding_aes_key=previous, encryption="safe")
    return AccountCodec(account, clock=lambda: int(now))


def test_official_python_sample_verifies_and_decrypts():
    v = _load("official_sample_python_vector.json")
    d = v["decrypt_vector"]
    codec = _codec(v["token"], v["encoding_aes_key"], v["appid"], d["timestamp"])
    query = Query(signature=None, timestamp=d["timestamp"], nonce=d["nonce"], msg_signature=d["msg_signature"],
                  encrypt_type="aes")
    body = (SAMPLES / "crypto" / d["request_body_file"]).read_bytes()
    plaintext = codec.open(query, body)
    assert plaintext == (SAMPLES / "crypto" / d["expected_plaintext_file"]).read_text(encoding="utf-8").rstrip("\n")
    event = parse_event(plaintext, "sample")
    assert event.kind == "text" and event.text == "abcdteT"


def test_official_sample_with_a_wrong_msg_signature_is_refused():
    v = _load("official_sample_python_vector.json")
    d = v["decrypt_vector"]
    codec = _codec(v["token"], v["encoding_aes_key"], v["appid"], d["timestamp"])
    query = Query(signature=None, timestamp=d["timestamp"], nonce=d["nonce"], msg_signature="0" * 40,
                  encrypt_type="aes")
    with pytest.raises(SignatureError):
        codec.open(query, (SAMPLES / "crypto" / d["request_body_file"]).read_bytes())


def test_wechatpy_vector_decrypts():
    v = _load("wechatpy_work_crypto_vectors.json")
    d = v["decrypt"]
    codec = _codec(v["token"], v["encoding_aes_key"], v["receive_id"], d["timestamp"])
    query = Query(signature=None, timestamp=d["timestamp"], nonce=d["nonce"], msg_signature=d["msg_signature"],
                  encrypt_type="aes")
    assert codec.open(query, d["request_xml"].encode()) == d["expected_plaintext"]


def test_previous_key_still_decrypts_after_rotation():
    v = _load("wechatpy_work_crypto_vectors.json")
    d = v["decrypt"]
    rotated = _codec(v["token"], "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", v["receive_id"], d["timestamp"],
                     previous=v["encoding_aes_key"])
    query = Query(signature=None, timestamp=d["timestamp"], nonce=d["nonce"], msg_signature=d["msg_signature"],
                  encrypt_type="aes")
    assert rotated.open(query, d["request_xml"].encode()) == d["expected_plaintext"]


def _fixed_random(codec: AccountCodec, prefix: str) -> None:
    codec._ciphers[0].get_random_string = lambda: prefix


@pytest.mark.parametrize("index", [0, 1])
def test_official_java_vectors_encrypt_byte_for_byte(index):
    v = _load("official_sample_java_vector.json")
    codec = _codec(v["token"], v["encoding_aes_key"], v["appid"], v["timestamp"])
    _fixed_random(codec, v["random_str"])
    query = Query(signature=None, timestamp=v["timestamp"], nonce=v["nonce"], encrypt_type="aes")
    sealed = codec.seal(v["vectors"][index]["plaintext"], query)
    assert f"<Encrypt><![CDATA[{v['vectors'][index]['encrypt']}]]></Encrypt>" in sealed


def test_wechatpy_vector_encrypts_and_signs_byte_for_byte():
    v = _load("wechatpy_work_crypto_vectors.json")
    e = v["encrypt"]
    codec = _codec(v["token"], v["encoding_aes_key"], v["receive_id"], e["timestamp"])
    _fixed_random(codec, e["random_prefix"])
    sealed = codec.seal(e["plaintext"], Query(signature=None, timestamp=e["timestamp"], nonce=e["nonce"],
                                              encrypt_type="aes"))
    expected = e["expected_xml"].replace("\n", "")
    assert sealed == expected


def test_sealed_reply_round_trips_through_the_official_reply_example():
    v = _load("official_sample_python_vector.json")
    codec = _codec(v["token"], v["encoding_aes_key"], v["appid"], "1409735669")
    query = Query(signature=None, timestamp="1409735669", nonce="1320562132", encrypt_type="aes")
    reply = v["encrypt_example_input"]["reply_xml"]
    sealed = codec.seal(reply, query)
    from bot.wechat.codec import _xml_dict

    outer = _xml_dict(sealed)
    assert outer["MsgSignature"] == sign(v["token"], outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    assert codec._ciphers[0].decrypt(outer["Encrypt"], v["appid"]) == reply


# -- the safe-mode envelope, read without the parser when it has WeChat's exact shape --------------

_ENCRYPT = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655Hu+/=="


@pytest.mark.parametrize("body", [
    f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt></xml>",
    f"<xml>\n<ToUserName><![CDATA[gh_1]]></ToUserName>\n<Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt>\n</xml>\n",
    f"<xml><Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt><ToUserName><![CDATA[gh_1]]></ToUserName></xml>",
    f"  <xml>\r\n\t<Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt></xml>",
])
def test_the_envelope_as_wechat_sends_it_is_read_without_the_parser(body):
    from bot.wechat.codec import _ENVELOPE, _envelope_encrypt, _xml_dict

    assert _ENVELOPE.fullmatch(body.encode())
    assert _envelope_encrypt(body.encode()) == _xml_dict(body.encode())["Encrypt"] == _ENCRYPT


@pytest.mark.parametrize("body", [
    _xml("crypto/official_sample_request_encrypted.xml"),  # the compatible mode's envelope: more fields
    f"<?xml version=\"1.0\"?><xml><Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt></xml>",
    f"<xml><!-- x --><Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt></xml>",
    f"<xml><Encrypt>{_ENCRYPT}</Encrypt></xml>",
])
def test_other_envelopes_go_through_the_parser(body):
    from bot.wechat.codec import _ENVELOPE, _envelope_encrypt, _xml_dict

    assert not _ENVELOPE.fullmatch(body.encode())
    assert _envelope_encrypt(body.encode()) == _xml_dict(body.encode())["Encrypt"]


@pytest.mark.parametrize("body", [
    f"<xml><Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt>",
    f"<xml><Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt></xml><xml/>",
    f"<xml><Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt></xml>\x0c",
    f"<!DOCTYPE x [<!ENTITY a 'b'>]><xml><Encrypt><![CDATA[{_ENCRYPT}]]></Encrypt></xml>",
])
def test_an_envelope_that_is_not_well_formed_is_still_refused(body):
    from bot.wechat.codec import MalformedMessage, _envelope_encrypt

    with pytest.raises(MalformedMessage):
        _envelope_encrypt(body.encode())


def test_every_sealed_reply_opens_with_fresh_random_bytes():
    v = _load("official_sample_python_vector.json")
    codec = _codec(v["token"], v["encoding_aes_key"], v["appid"], "1409735669")
    query = Query(signature=None, timestamp="1409735669", nonce="1320562132", encrypt_type="aes")
    cipher = codec._ciphers[0]
    prefixes = {cipher.get_random_string() for _ in range(50)}
    assert len(prefixes) == 50 and all(len(p) == 16 and p.isascii() for p in prefixes)
    first, second = codec.seal("<xml>回复</xml>", query), codec.seal("<xml>回复</xml>", query)
    assert first != second
    from bot.wechat.codec import _xml_dict

    for sealed in (first, second):
        assert cipher.decrypt(_xml_dict(sealed)["Encrypt"], v["appid"]) == "<xml>回复</xml>"


@pytest.mark.parametrize("content", ["你好！我是邻里助手。", "a & b < c", "", "第一行\n第二行", "  空格  "])
def test_a_text_reply_is_rendered_exactly_as_wechatpy_renders_it(content, monkeypatch):
    from wechatpy.replies import TextReply

    from bot.replies import Text
    from bot.wechat import codec

    monkeypatch.setattr(codec.time, "time", lambda: 1700000000.7)
    event = parse_event(_xml("messages/text.xml"), "sample")
    ours = codec.render_reply(Text(content), event)
    theirs = TextReply(source=event.account_user, target=event.openid, content=content, time=1700000000).render()
    assert ours == theirs


def test_a_text_reply_keeps_a_cdata_end_inside_its_content():
    import xml.etree.ElementTree as ElementTree

    from bot.replies import Text
    from bot.wechat.codec import render_reply

    said = "回复：]]><xml>不是XML]]>"
    rendered = render_reply(Text(said), parse_event(_xml("messages/text.xml"), "sample"))
    assert ElementTree.fromstring(rendered).findtext("Content") == said


# -- messages read without the parser when they are flat: the same fields as the parser gives ------

def _variants() -> list[str]:
    samples = sorted(SAMPLES.glob("*/*.xml"))
    texts = [path.read_text(encoding="utf-8") for path in samples]
    text = _xml("messages/text.xml")
    texts += [
        text.replace("this is a test", "  带空格的内容  "), text.replace("this is a test", ""),
        text.replace("this is a test", "方括号]里]]的]>内容"), text.replace("this is a test", "<不是标签>&amp;"),
        text.replace("\n", "\r\n"), text.replace("this is a test", "控制\x01字符"),
        text.replace("this is a test", "\ufffe"),
        text.replace("<xml>", "<?xml version=\"1.0\"?>\n<xml>"), text.replace("<xml>", "<xml><!-- 注释 -->"),
        text.replace("<xml>", "<xml a=\"1\">"), text.replace("</xml>", "<MsgId>2</MsgId></xml>"),
        text.replace("</xml>", "<Extra>a &lt; b</Extra></xml>"), text.replace("</xml>", "<Empty></Empty><Self/></xml>"),
        text.replace("</xml>", "<Bad>a ]]> b</Bad></xml>"), text.replace("</xml>", "<Open><![CDATA[x]]></Close></xml>"),
        text.replace("</xml>", ""), text + "<xml/>", "<xml></xml>", "  <xml>\n</xml>\n", "<xml>text</xml>",
        "<xml><A><![CDATA[ a ]]></A><A>b</A><A><![CDATA[]]></A></xml>", "<xml><A> <![CDATA[a]]> </A></xml>",
        "<xml><A.b>1</A.b><Ü>2</Ü></xml>", "<xml><Nested><Inner>1</Inner></Nested></xml>",
    ]
    return texts


@pytest.mark.parametrize("text", _variants())
def test_a_flat_message_reads_as_the_parser_reads_it(text):
    import xml.etree.ElementTree as ElementTree

    from bot.wechat.codec import MalformedMessage, _fields, _flat_fields

    flat = _flat_fields(text)
    try:
        parsed = _fields(ElementTree.fromstring(text))
    except ElementTree.ParseError:
        parsed = None
    if flat is not None:  # read without the parser: the parser must read it, and read the same
        assert parsed == flat
    else:  # left to the parser: it reads it or refuses it, as before
        try:
            from bot.wechat.codec import _xml_dict
            _xml_dict(text)
        except MalformedMessage:
            pass


def test_the_usual_messages_are_read_without_the_parser():
    from bot.wechat.codec import _flat_fields

    for name in ("messages/text.xml", "messages/voice_with_recognition.xml", "events/subscribe.xml",
                 "events/click.xml", "crypto/official_sample_request_decrypted_plaintext.xml"):
        assert _flat_fields(_xml(name)) is not None, name
