"""Logging set-up. Phone numbers never reach a log line whole; with a key, openids never raw.

Two formats ([log] format): "text" for a terminal, "json" for production — one JSON object a
line with every field of the record (time, level, logger, message, where it was logged, the
exception, and any ``extra=`` fields), which log collectors index without parsing.

Redaction works on the finished text of every field, so it also covers arguments, tracebacks
and aiohttp's access log, whoever wrote the log call. An openid is replaced by a keyed, stable
short hash (HMAC-SHA256 with [log] openid_key, 12 hex characters): the same resident gives the
same hash in every process and every day, so their lines can still be followed, but a leaked
log does not name them. Openids are found by WeChat's shape (28 characters starting with "o"),
after ``openid=`` (WeChat appends it to the server URL), inside event dedup keys
(``e:{openid}:{time}:{event}``, any shape) and in ``extra`` fields whose name ends in "openid".
Phones are masked after hashing, so a digit run inside an openid cannot half-hide it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import LogSettings

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
_OPENID = re.compile(r"(?<![A-Za-z0-9_-])o[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])")
_OPENID_PARAM = re.compile(r"(?<=openid=)[^&\s\"'<>]+")
_EVENT_KEY = re.compile(r"(?<![A-Za-z0-9_])e:([^:\s]+)(?=:\d+:)")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def mask_phones(text: str) -> str:
    return _PHONE.sub(r"\1****\3", text)


class Redactor:
    """Hashes openids (when keyed) and masks phones in a string."""

    def __init__(self, openid_key: str = "") -> None:
        self._key = openid_key.encode() if openid_key else None
        self.hash = lru_cache(maxsize=4096)(self._hash)

    def _hash(self, openid: str) -> str:
        return hmac.new(self._key, openid.encode(), hashlib.sha256).hexdigest()[:12]

    def __call__(self, text: str) -> str:
        if self._key is not None:
            text = _OPENID_PARAM.sub(lambda m: self.hash(m.group(0)), text)
            text = _EVENT_KEY.sub(lambda m: "e:" + self.hash(m.group(1)), text)
            text = _OPENID.sub(lambda m: self.hash(m.group(0)), text)
        return mask_phones(text)

    def value(self, name: str, value: Any) -> Any:
        """An ``extra`` field, made JSON-safe: strings redacted, containers walked, objects as text."""
        if isinstance(value, str):
            return self.hash(value) if self._key is not None and name.endswith("openid") else self(value)
        if value is None or isinstance(value, (bool, int, float)):
            return value
        if isinstance(value, dict):
            return {str(k): self.value(str(k), v) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [self.value(name, v) for v in value]
        return self(str(value))


class MaskingFilter(logging.Filter):
    """Masks phones in a record's message (for handlers that do not use our formatters)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__(TEXT_FORMAT)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": self._redact(record.getMessage()),
            "module": record.module, "function": record.funcName, "line": record.lineno, "path": record.pathname,
            "process": record.process, "process_name": record.processName, "thread": record.threadName,
        }
        if record.exc_info:
            entry["exception"] = self._redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = self._redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self._redact(self.formatStack(record.stack_info))
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry:
                entry[name] = self._redact.value(name, value)
        return json.dumps(entry, ensure_ascii=False, default=str)


def make_formatter(fmt: str, openid_key: str = "") -> logging.Formatter:
    redact = Redactor(openid_key)
    return JsonFormatter(redact) if fmt == "json" else TextFormatter(redact)


def setup_logging(settings: "LogSettings | str" = "INFO") -> None:
    """``settings``: the [log] section, or just a level (the demo and scripts)."""
    level, fmt, key = ((settings, "text", "") if isinstance(settings, str)
                       else (settings.level, settings.format, settings.openid_key))
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(fmt, key))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("jieba", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

