"""Talk to the app as WeChat does: `chat = wechat.resident("o_1"); await chat.say("你好")`.

Every call goes through the real HTTP endpoint with signed (and, in safe mode, encrypted) XML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import AccountSettings
from bot.wechat.simulate import WeChatSigner, message_xml, next_msg_id


@dataclass
class Delivery:
    status: int
    body: str
    reply: dict[str, Any] | None

    @property
    def text(self) -> str | None:
        return self.reply.get("Content") if self.reply else None


class WeChatClient:
    def __init__(self, client, account: AccountSettings, *, signer: WeChatSigner | None = None) -> None:
        self.client = client  # aiohttp TestClient (or anything with .post/.get returning responses)
        self.account = account
        self.signer = signer or WeChatSigner(account)
        self.account_user = "gh_linli_test"

    def resident(self, openid: str) -> "ResidentChat":
        return ResidentChat(self, openid)

    async def deliver(self, xml: str, *, params: dict[str, str] | None = None, body: bytes | None = None) -> Delivery:
        signed = self.signer.sign_post(xml)
        response = await self.client.post(f"/wechat/{self.account.name}", params=params or signed.params,
                                          data=signed.body if body is None else body)
        text = await response.text()
        reply = self.signer.open_reply(text) if response.status == 200 else None
        return Delivery(response.status, text, reply)

    def xml(self, openid: str, msg_type: str, fields: dict[str, Any], **kw: Any) -> str:
        return message_xml(openid, self.account_user, msg_type, fields, **kw)


class ResidentChat:
    def __init__(self, wechat: WeChatClient, openid: str) -> None:
        self.wechat = wechat
        self.openid = openid

    async def say(self, text: str) -> str | None:
        """Send a text message; return the passive reply's text (None for "success")."""
        return (await self.send("text", {"Content": text})).text

    async def send(self, msg_type: str, fields: dict[str, Any], **kw: Any) -> Delivery:
        return await self.wechat.deliver(self.wechat.xml(self.openid, msg_type, fields, **kw))

    async def voice(self, recognition: str | None) -> Delivery:
        fields = {"MediaId": "voice_media", "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        return await self.send("voice", fields)

    async def event(self, name: str, key: str | None = None, **extra: Any) -> Delivery:
        fields: dict[str, Any] = {"Event": name}
        if key is not None:
            fields["EventKey"] = key
        fields.update(extra)
        return await self.send("event", fields)

    def text_xml(self, text: str, msg_id: str | None = None) -> str:
        return self.wechat.xml(self.openid, "text", {"Content": text}, msg_id=msg_id or next_msg_id())
