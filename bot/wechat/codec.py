"""The WeChat wire format: signatures, safe-mode AES, XML in, XML out.

The only module that knows what WeChat's XML looks like. wechatpy does the AES and renders image
replies; text replies follow its TextReply template (see render_reply). We compare signatures
ourselves in constant time (wechatpy uses ``!=``) and try the previous EncodingAESKey when the
current one fails, because keys are rotated while messages are in flight. WeChat's XML is flat and
small: a document of exactly that shape is read with regular expressions that give what the parser
gives (_flat_fields); any other goes to the standard library's C ElementTree (a third of
xmltodict's cost, which is what wechatpy uses), after refusing any DTD: without one, expat knows
only the five predefined entities, so neither entity expansion nor external entities can happen.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any, Mapping

from wechatpy.crypto import PrpCrypto
from wechatpy.replies import ImageReply
from wechatpy.utils import to_binary

from bot.config import AccountSettings
from bot.events import IncomingEvent, Location
from bot.replies import Image, Reply, Text

_DTD = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)


class SignatureError(Exception):
    """The request did not come from WeChat (or is too old): answer 403 and do nothing."""


class MalformedMessage(Exception):
    """The body cannot be a WeChat message: answer 400 and do nothing."""


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_matches(expected: str | None, *parts: str) -> bool:
    return hmac.compare_digest(sign(*parts).encode(), (expected or "").encode())


@dataclass(frozen=True, slots=True)
class Query:
    """The signed query string WeChat puts on every request."""

    signature: str | None
    timestamp: str
    nonce: str
    msg_signature: str | None = None
    encrypt_type: str | None = None
    echostr: str | None = None

    @classmethod
    def from_mapping(cls, query: Mapping[str, str]) -> "Query":
        return cls(signature=query.get("signature"), timestamp=query.get("timestamp", ""),
                   nonce=query.get("nonce", ""), msg_signature=query.get("msg_signature"),
                   encrypt_type=query.get("encrypt_type"), echostr=query.get("echostr"))

    @property
    def encrypted(self) -> bool:
        return (self.encrypt_type or "").lower() == "aes"


class AccountCodec:
    """Opens requests and seals replies for one Official Account."""

    def __init__(self, account: AccountSettings, *, timestamp_window: int = 300, clock=time.time) -> None:
        self.account = account
        self.timestamp_window = timestamp_window
        self.clock = clock
        self._ciphers = [_Cipher(_aes_key(k)) for k in (account.encoding_aes_key,
                                                          account.previous_encoding_aes_key) if k]

    # -- URL verification (GET) -------------------------------------------------------------
    def verify_url(self, query: Query) -> str:
        self._check_fresh(query)
        if not signature_matches(query.signature, self.account.token, query.timestamp, query.nonce):
            raise SignatureError("bad signature")
        return query.echostr or ""

    # -- inbound (POST) -----------------------------------------------------------------------
    def open(self, query: Query, body: bytes) -> str:
        """Verify and, in the encrypted modes, decrypt; return the message XML as text."""
        return self.open_with_key(query, body)[0]

    def open_with_key(self, query: Query, body: bytes) -> tuple[str, int]:
        """The message XML and which EncodingAESKey opened it (0: current, 1: previous), so the
        reply can be sealed with the same key: while a rotation is half done (new key here, old
        one still in the WeChat console) WeChat can read only what the old key sealed."""
        self._check_fresh(query)
        if query.encrypted:
            return self._open_encrypted(query, body)
        if self.account.encryption == "safe":
            raise SignatureError("safe mode accepts only encrypted messages")
        if not signature_matches(query.signature, self.account.token, query.timestamp, query.nonce):
            raise SignatureError("bad signature")
        return _text(body), 0

    def _open_encrypted(self, query: Query, body: bytes) -> tuple[str, int]:
        if not self._ciphers:
            raise SignatureError("encrypted message but no EncodingAESKey is configured")
        encrypt = _envelope_encrypt(body)
        if not isinstance(encrypt, str) or not encrypt:
            raise MalformedMessage("no Encrypt field")
        parts = (self.account.token, query.timestamp, query.nonce, encrypt)
        if not signature_matches(query.msg_signature, *parts):
            raise SignatureError("bad msg_signature")
        for key, cipher in enumerate(self._ciphers):
            try:
                return cipher.decrypt(encrypt, self.account.appid), key
            except Exception:  # wrong key, wrong AppID, bad padding: try the previous key
                continue
        raise MalformedMessage("cannot decrypt with the current or previous EncodingAESKey")

    def _check_fresh(self, query: Query) -> None:
        if not self.timestamp_window:
            return
        try:
            age = abs(self.clock() - int(query.timestamp))
        except ValueError:
            raise SignatureError("bad timestamp") from None
        if age > self.timestamp_window:
            raise SignatureError("stale timestamp")

    # -- outbound (reply) ---------------------------------------------------------------------
    def seal(self, reply_xml: str, query: Query, key: int = 0) -> str:
        """Encrypt the passive reply when the request was encrypted (required in safe mode), with
        the key that opened the request (see open_with_key)."""
        if not query.encrypted:
            return reply_xml
        timestamp = str(int(self.clock()))
        encrypt = self._ciphers[key].encrypt(reply_xml, self.account.appid).decode()
        signature = sign(self.account.token, timestamp, query.nonce, encrypt)
        return ("<xml><Encrypt><![CDATA[{}]]></Encrypt><MsgSignature><![CDATA[{}]]></MsgSignature>"
                "<TimeStamp>{}</TimeStamp><Nonce><![CDATA[{}]]></Nonce></xml>").format(
                    encrypt, signature, timestamp, query.nonce)


class _Cipher(PrpCrypto):
    """wechatpy's AES, with the 16 random bytes that open each sealed reply drawn from
    `secrets`: wechatpy draws them with random.sample, predictable and a third of the cost
    of sealing a reply. (wechatpy provides the method for this; the tests fix the prefix here.)"""

    def get_random_string(self) -> str:
        return secrets.token_hex(8)


def render_reply(reply: Reply, event: IncomingEvent) -> str:
    if isinstance(reply, Image):
        return ImageReply(source=event.account_user, target=event.openid, media_id=reply.media_id).render()
    assert isinstance(reply, Text)
    return _TEXT_REPLY.format(content=_cdata(reply.content), source=_cdata(event.account_user),
                              target=_cdata(event.openid), time=int(time.time()))


# A text reply, every message's, exactly as wechatpy's TextReply renders it (tests/wechat/
# test_protocol.py holds the two together) — without its field objects and conversions, which
# took 8 µs a reply, 2 % of the endpoint at full load — and with a "]]>" in the text kept
# inside CDATA, which wechatpy's breaks the XML on (a resident's words may be quoted back).
_TEXT_REPLY = ("<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[{content}]]></Content>\n"
               "<FromUserName><![CDATA[{source}]]></FromUserName>\n<ToUserName><![CDATA[{target}]]></ToUserName>\n"
               "<CreateTime>{time}</CreateTime>\n</xml>")


def _cdata(text: str) -> str:
    """Text for inside <![CDATA[...]]>: a "]]>" would end the section, so it is split across two."""
    return text.replace("]]>", "]]]]><![CDATA[>") if "]]>" in text else text


def _aes_key(encoding_aes_key: str) -> bytes:
    import base64

    return base64.b64decode(to_binary(encoding_aes_key + "="))


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedMessage("body is not UTF-8") from None


# The safe-mode envelope as WeChat sends it: <xml>, ToUserName and Encrypt, </xml>, nothing
# else. Matched whole and ASCII only, so a match is itself a well-formed document whose Encrypt
# is the group; any other body (the compatible mode's envelope, a declaration, comments) goes
# through the parser. One XML parser fewer per message (bench/RESULTS.md, "Endpoint — Sixth").
_XML_SPACE = rb"[ \t\r\n]*"
_TO_USER = rb"(?:<ToUserName><!\[CDATA\[[A-Za-z0-9_-]*\]\]></ToUserName>" + _XML_SPACE + rb")?"
_ENVELOPE = re.compile(_XML_SPACE + rb"<xml>" + _XML_SPACE + _TO_USER
                       + rb"<Encrypt><!\[CDATA\[([A-Za-z0-9+/=]+)\]\]></Encrypt>" + _XML_SPACE + _TO_USER
                       + rb"</xml>" + _XML_SPACE)


def _envelope_encrypt(body: bytes) -> Any:
    """The Encrypt field of an encrypted request's body."""
    if envelope := _ENVELOPE.fullmatch(body):
        return envelope.group(1).decode("ascii")
    return _xml_dict(body).get("Encrypt")


def _xml_dict(body: bytes | str) -> dict[str, Any]:
    """Parse WeChat's flat XML; refuse DTDs so entity tricks never reach the parser."""
    fields = _flat_fields(_text(body) if isinstance(body, bytes) else body)
    if fields is not None:
        return fields
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    if _DTD.search(raw):
        raise MalformedMessage("DTD or entity declarations are not allowed")
    try:
        root = ElementTree.fromstring(_text(raw) if isinstance(body, bytes) else body)
    except ElementTree.ParseError as exc:
        raise MalformedMessage(f"not XML: {exc}") from None
    if root.tag != "xml":
        raise MalformedMessage("no <xml> root")
    return _fields(root)


# A message as WeChat writes it: <xml>, then elements that hold only CDATA or plain text, </xml>.
# Such a document is matched whole here and read with one more regular expression, giving what
# the parser gives (tests/wechat/test_protocol.py compares them on every sample and on variants);
# anything else — nesting, attributes, entities, comments, a declaration, a carriage return
# (which XML turns into a newline), a character XML forbids — goes to the parser, which reads it
# or refuses it. Half the cost of the parser on every message (bench/RESULTS.md, "Endpoint — Sixth").
_NOT_XML = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff\r"  # and "\r", which the parser rewrites
_SPACE = "[ \t\n]*"
_NAME = "[A-Za-z_][A-Za-z0-9_]*"
_IN_CDATA = f"[^\\]{_NOT_XML}]*(?:\\](?!\\]>)[^\\]{_NOT_XML}]*)*"  # anything but "]]>"
_PLAIN = f"[^<&\\]{_NOT_XML}]*"
_FLAT_FIELD = re.compile(f"<({_NAME})>(?:<!\\[CDATA\\[({_IN_CDATA})\\]\\]>|({_PLAIN}))</\\1>")
_FLAT_DOCUMENT = re.compile(f"{_SPACE}<xml>((?:{_SPACE}<({_NAME})>(?:<!\\[CDATA\\[{_IN_CDATA}\\]\\]>|{_PLAIN})</\\2>)*)"
                            f"{_SPACE}</xml>{_SPACE}")


def _flat_fields(text: str) -> dict[str, Any] | None:
    """The fields of a flat message, as _fields reads them; None if the text is not one."""
    document = _FLAT_DOCUMENT.fullmatch(text)
    if document is None:
        return None
    fields: dict[str, Any] = {}
    for tag, cdata, plain in _FLAT_FIELD.findall(document.group(1)):
        value = (cdata or plain).strip() or None
        if tag not in fields:
            fields[tag] = value
        elif isinstance(fields[tag], list):
            fields[tag].append(value)
        else:
            fields[tag] = [fields[tag], value]
    return fields


def _fields(element: ElementTree.Element) -> dict[str, Any]:
    """Child elements as a dict (text stripped, empty as None; nested ones as dicts, repeats as lists)."""
    fields: dict[str, Any] = {}
    for child in element:
        value = _fields(child) if len(child) else ((child.text or "").strip() or None)
        if child.tag not in fields:
            fields[child.tag] = value
        elif isinstance(fields[child.tag], list):
            fields[child.tag].append(value)
        else:
            fields[child.tag] = [fields[child.tag], value]
    return fields


# -- XML → IncomingEvent ----------------------------------------------------------------------

_EVENT_NAMES = {"subscribe": "subscribe", "subscribe_scan": "subscribe", "unsubscribe": "unsubscribe",
                "scan": "scan", "click": "click", "view": "view", "location": "location"}


def parse_event(xml: str, account: str) -> IncomingEvent:
    """Turn a message's XML into an IncomingEvent, or raise MalformedMessage."""
    data = _xml_dict(xml)
    if not isinstance(data.get("FromUserName"), str) or not isinstance(data.get("MsgType"), str):
        raise MalformedMessage("FromUserName or MsgType missing")
    try:
        create_time = int(data.get("CreateTime") or 0)
    except (ValueError, TypeError):
        raise MalformedMessage("bad CreateTime") from None
    base = dict(account=account, openid=data["FromUserName"], account_user=str(data.get("ToUserName") or ""),
                create_time=create_time, raw=data)
    msg_id = data.get("MsgId")
    if isinstance(msg_id, str) and msg_id.strip():
        base["msg_id"] = msg_id.strip()
    msg_type = data["MsgType"].strip().lower()
    if msg_type == "event":
        return _event(data, base)
    kind = msg_type if msg_type in _MESSAGE_TYPES else "unknown"
    return IncomingEvent(kind=kind, **base, **_message_fields(kind, data))


_MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


def _message_fields(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind == "text":
        return {"text": _str(data.get("Content"))}
    if kind == "voice":
        return {"text": _str(data.get("Recognition")) or None, "media_id": _str(data.get("MediaId"))}
    if kind == "image":
        return {"media_id": _str(data.get("MediaId")), "media_url": _str(data.get("PicUrl"))}
    if kind in ("video", "shortvideo"):
        return {"media_id": _str(data.get("MediaId"))}
    if kind == "location":
        return {"location": Location(latitude=float(data.get("Location_X") or 0),
                                     longitude=float(data.get("Location_Y") or 0),
                                     label=_str(data.get("Label")),
                                     precision=_float(data.get("Scale")))}
    if kind == "link":
        return {"link": {k.lower(): _str(data.get(k)) or "" for k in ("Title", "Description", "Url")}}
    return {}


def _event(data: dict[str, Any], base: dict[str, Any]) -> IncomingEvent:
    name = _str(data.get("Event")) or ""
    key = _str(data.get("EventKey"))
    event = _EVENT_NAMES.get(name.lower(), "other")
    fields: dict[str, Any] = {"event": event, "event_name": name, "event_key": key}
    if event == "subscribe" and key and key.startswith("qrscene_"):
        fields["scene"] = key[len("qrscene_"):]
    elif event == "scan":
        fields["scene"] = key
    elif event == "location":
        fields["location"] = Location(latitude=_float(data.get("Latitude")) or 0.0,
                                      longitude=_float(data.get("Longitude")) or 0.0,
                                      precision=_float(data.get("Precision")))
    return IncomingEvent(kind="event", **base, **fields)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        raise MalformedMessage(f"not a number: {value!r}") from None
