"""Settings: a TOML file, overlaid with LINLI_* environment variables, validated once.

Start-up must stop on a bad or missing value with a message that names the setting, so an
operator never discovers a typo from a resident's failed message. Secrets (app secrets, tokens,
AES keys, database passwords) are meant to come from the environment, never the repo.

Environment overrides use double underscores for nesting: ``LINLI_DATABASE__URL``,
``LINLI_SERVER__PORT``; account settings are addressed by the account's name:
``LINLI_ACCOUNTS__DEMO__SECRET``.
"""

from __future__ import annotations

import base64
import binascii
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ENV_PREFIX = "LINLI_"


class ConfigError(Exception):
    """Raised with a human-readable message naming the offending setting."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    max_body_bytes: int = Field(65536, ge=1024)
    reply_deadline_seconds: float = Field(4.0, gt=0, le=4.8)
    timestamp_window_seconds: int = Field(300, ge=0)
    simulator: bool = False  # the resident simulator page; the demo turns it on


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/linli.db"
    echo: bool = False
    pool_size: int = Field(10, ge=1)

    @field_validator("url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return url


class WechatApiSettings(_Section):
    base_url: str = "https://api.weixin.qq.com"
    timeout_seconds: float = Field(5.0, gt=0)
    token_refresh_margin_seconds: int = Field(300, ge=0)


class OutboxSettings(_Section):
    max_attempts: int = Field(8, ge=1)
    base_backoff_seconds: float = Field(2.0, gt=0)
    max_backoff_seconds: float = Field(600.0, gt=0)
    poll_interval_seconds: float = Field(5.0, gt=0)
    claim_lease_seconds: float = Field(60.0, gt=0)
    batch_size: int = Field(50, ge=1)


class DialogSettings(_Section):
    conversation_ttl_minutes: int = Field(30, ge=1)
    handoff_timeout_minutes: int = Field(120, ge=1)


class DedupSettings(_Section):
    retention_hours: int = Field(48, ge=1)
    running_lease_seconds: float = Field(30.0, gt=0)


class NluSettings(_Section):
    threshold: float = Field(0.5, ge=0, le=1)


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class TemplateSettings(_Section):
    """A template message used when a notice falls outside the 48-hour window."""

    template_id: str
    # template field name -> notice payload key (e.g. {"first": "title", "keyword1": "text"})
    fields: dict[str, str] = Field(default_factory=dict)
    url: str = ""


class MenuButton(_Section):
    name: str
    type: Literal["click", "view"] = "click"
    key: str = ""
    url: str = ""
    sub_button: list["MenuButton"] = Field(default_factory=list)


class AccountSettings(_Section):
    """One Official Account; the endpoint is /wechat/<name>."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    community: str
    appid: str = Field(min_length=1)
    secret: str = ""
    token: str = Field(min_length=3, max_length=32)
    encoding_aes_key: str = ""
    previous_encoding_aes_key: str = ""
    encryption: Literal["plain", "compatible", "safe"] = "safe"
    templates: dict[str, TemplateSettings] = Field(default_factory=dict)
    menu: list[MenuButton] = Field(default_factory=list)

    @field_validator("encoding_aes_key", "previous_encoding_aes_key")
    @classmethod
    def _aes_key(cls, key: str) -> str:
        if not key:
            return key
        try:
            raw = base64.b64decode(key + "=", validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("must be the 43-character EncodingAESKey from the WeChat console") from None
        if len(key) != 43 or len(raw) != 32:
            raise ValueError("must be the 43-character EncodingAESKey from the WeChat console")
        return key

    @model_validator(mode="after")
    def _key_needed(self) -> "AccountSettings":
        if self.encryption != "plain" and not self.encoding_aes_key:
            raise ValueError(f"encoding_aes_key is required when encryption = {self.encryption!r}")
        return self


class CommunitySettings(_Section):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: str


class Settings(_Section):
    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    wechat: WechatApiSettings = Field(default_factory=WechatApiSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    dialog: DialogSettings = Field(default_factory=DialogSettings)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    communities: list[CommunitySettings] = Field(min_length=1)
    accounts: list[AccountSettings] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> "Settings":
        slugs = {c.slug for c in self.communities}
        names: set[str] = set()
        for account in self.accounts:
            if account.community not in slugs:
                raise ValueError(f"account {account.name!r}: community {account.community!r} is not in [[communities]]")
            if account.name in names:
                raise ValueError(f"account name {account.name!r} is used twice")
            names.add(account.name)
        return self

    def account(self, name: str) -> AccountSettings | None:
        return next((a for a in self.accounts if a.name == name), None)


def load_settings(path: str | os.PathLike | None, environ: dict[str, str] | None = None) -> Settings:
    """Read the TOML file (if any), apply environment overrides, validate."""
    data: dict[str, Any] = {}
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError(f"config file not found: {file}")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
    apply_env_overrides(data, os.environ if environ is None else environ)
    return validate(data)


def validate(data: dict[str, Any]) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, data)) from None


def apply_env_overrides(data: dict[str, Any], environ: dict[str, str]) -> None:
    """Overlay LINLI_A__B__C=value onto data["a"]["b"]["c"]; accounts are found by name."""
    for key in sorted(environ):
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "CONFIG":
            continue
        parts = [p.lower() for p in key[len(ENV_PREFIX):].split("__")]
        if len(parts) < 2:
            continue
        target = _env_target(data, parts[:-1], key)
        target[parts[-1]] = environ[key]


def _env_target(data: dict[str, Any], path: list[str], env_key: str) -> dict[str, Any]:
    node: Any = data
    for index, part in enumerate(path):
        if isinstance(node, dict) and part in ("accounts", "communities") and index == 0:
            items = node.setdefault(part, [])
            field = "name" if part == "accounts" else "slug"
            if len(path) < 2:
                raise ConfigError(f"{env_key}: say which {part[:-1]} by its {field}")
            wanted = path[1]
            match = next((item for item in items if str(item.get(field, "")).lower() == wanted), None)
            if match is None:
                raise ConfigError(f"{env_key}: no {part[:-1]} with {field} {wanted!r} in the config file")
            node = match
            return _env_target(node, path[2:], env_key) if len(path) > 2 else node
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{env_key}: {'.'.join(path[: index + 1])} is not a section")
    return node


def _describe(exc: ValidationError, data: dict[str, Any]) -> str:
    lines = ["invalid configuration:"]
    for error in exc.errors():
        lines.append(f"  {_location(error['loc'], data)}: {error['msg']}")
    return "\n".join(lines)


def _location(loc: tuple, data: dict[str, Any]) -> str:
    """accounts.0.token -> accounts[demo].token, so the operator sees which account."""
    parts: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list):
            item = node[part] if part < len(node) else {}
            label = item.get("name") or item.get("slug") if isinstance(item, dict) else None
            parts[-1] += f"[{label or part}]"
            node = item
        else:
            parts.append(str(part))
            node = node.get(part, {}) if isinstance(node, dict) else {}
    return ".".join(parts) or "(root)"
