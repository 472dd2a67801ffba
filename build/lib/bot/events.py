"""IncomingEvent: the one internal shape of everything WeChat pushes to us.

Handlers see only this, never XML. Voice arrives as text when WeChat recognised it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

MESSAGE_KINDS = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link", "event", "unknown"})
EVENTS = frozenset({"subscribe", "unsubscribe", "scan", "click", "view", "location", "other"})


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    label: str | None = None
    precision: float | None = None


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    account: str
    openid: str
    account_user: str  # the account's own id (ToUserName), the sender of a passive reply
    kind: str
    create_time: int
    msg_id: str | None = None
    text: str | None = None  # text content, or a voice message's recognition
    event: str | None = None  # one of EVENTS for kind == "event"
    event_name: str | None = None  # WeChat's own event name, kept for "other"
    event_key: str | None = None
    scene: str | None = None  # QR scene of a subscribe/SCAN, e.g. a building's code
    media_id: str | None = None
    media_url: str | None = None
    location: Location | None = None
    link: Mapping[str, str] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def dedup_key(self) -> str:
        """WeChat retries carry the same MsgId; events have none, so sender + time identify them."""
        if self.msg_id:
            return f"m:{self.msg_id}"
        return f"e:{self.openid}:{self.create_time}:{self.event_name or self.kind}"

    @property
    def is_event(self) -> bool:
        return self.kind == "event"

    def log_fields(self) -> dict[str, Any]:
        """What the message log keeps of this event."""
        fields: dict[str, Any] = {"msg_type": self.event and f"event:{self.event}" or self.kind,
                                  "content": self.text, "media_id": self.media_id, "media_url": self.media_url,
                                  "wechat_msg_id": self.msg_id}
        if self.location:
            fields.update(latitude=self.location.latitude, longitude=self.location.longitude,
                          label=self.location.label)
        extra = {k: v for k, v in (("event_key", self.event_key), ("scene", self.scene),
                                   ("link", dict(self.link) if self.link else None)) if v}
        fields["extra"] = extra or None
        return fields
