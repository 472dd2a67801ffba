"""Replies: what a handler returns. Rendering them for WeChat is bot/wechat's business."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True, slots=True)
class Text:
    content: str


@dataclass(frozen=True, slots=True)
class Image:
    media_id: str


Reply = Union[Text, Image]


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, Text):
        return {"type": "text", "content": reply.content}
    return {"type": "image", "media_id": reply.media_id}


def reply_from_dict(data: dict[str, Any] | None) -> Reply | None:
    if not data:
        return None
    if data.get("type") == "image":
        return Image(data["media_id"])
    return Text(data["content"])


def reply_summary(reply: Reply) -> str:
    """The text kept on the message log for a reply."""
    return reply.content if isinstance(reply, Text) else f"[image:{reply.media_id}]"
