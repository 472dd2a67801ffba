"""Speak to our endpoint exactly as WeChat's servers do: signed, and encrypted in safe mode.

Used by the resident simulator page, `linli chat`, the tests and the benchmarks, so all of them
exercise the real door rather than a shortcut.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable
from xml.sax.saxutils import escape

from wechatpy.crypto import PrpCrypto

from bot.config import AccountSettings
from bot.wechat.codec import _aes_key, _xml_dict, sign

_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def next_msg_id() -> str:
    return str(next(_msg_ids))


def message_xml(openid: str, account_user: str, msg_type: str, fields: dict[str, Any], *,
                create_time: int | None = None, msg_id: str | None = None) -> str:
    """A WeChat push body; events get no MsgId (as on the real platform)."""
    parts = [f"<ToUserName><![CDATA[{account_user}]]></ToUserName>",
             f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
             f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
             f"<MsgType><![CDATA[{msg_type}]]></MsgType>"]
    for name, value in fields.items():
        parts.append(f"<{name}>{value}</{name}>" if isinstance(value, (int, float))
                     else f"<{name}><![CDATA[{value}]]></{name}>")
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or next_msg_id()}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


@dataclass
class SignedRequest:
    params: dict[str, str]
    body: bytes


class WeChatSigner:
    """Builds the query string and body WeChat would send for one account."""

    def __init__(self, account: AccountSettings, *, clock: Callable[[], float] = time.time,
                 encrypt: bool | None = None) -> None:
        self.account = account
        self.clock = clock
        self.encrypt = account.encryption != "plain" if encrypt is None else encrypt
        self._cipher = PrpCrypto(_aes_key(account.encoding_aes_key)) if account.encoding_aes_key else None

    def sign_post(self, xml: str, *, timestamp: str | None = None, nonce: str | None = None) -> SignedRequest:
        timestamp = timestamp or str(int(self.clock()))
        nonce = nonce or str(secrets.randbelow(10**10))
        params = {"signature": sign(self.account.token, timestamp, nonce), "timestamp": timestamp,
                  "nonce": nonce, "openid": _openid_of(xml)}
        if not self.encrypt:
            return SignedRequest(params, xml.encode())
        encrypt = self._cipher.encrypt(xml, self.account.appid).decode()
        params.update(encrypt_type="aes", msg_signature=sign(self.account.token, timestamp, nonce, encrypt))
        body = (f"<xml><ToUserName><![CDATA[{escape(self.account.appid)}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>")
        return SignedRequest(params, body.encode())

    def sign_get(self, echostr: str) -> dict[str, str]:
        timestamp, nonce = str(int(self.clock())), str(secrets.randbelow(10**10))
        return {"signature": sign(self.account.token, timestamp, nonce), "timestamp": timestamp,
                "nonce": nonce, "echostr": echostr}

    def open_reply(self, body: str) -> dict[str, Any] | None:
        """Read our passive reply as WeChat would: verify, decrypt, parse; None for "success"."""
        if body in ("", "success"):
            return None
        data = _xml_dict(body)
        if "Encrypt" in data:
            expected = sign(self.account.token, data["TimeStamp"], data["Nonce"], data["Encrypt"])
            if expected != data.get("MsgSignature"):
                raise ValueError("reply signature does not verify")
            data = _xml_dict(self._cipher.decrypt(data["Encrypt"], self.account.appid))
        return data


def _openid_of(xml: str) -> str:
    start = xml.find("<FromUserName><![CDATA[")
    if start < 0:
        return ""
    start += len("<FromUserName><![CDATA[")
    return xml[start:xml.find("]]>", start)]
