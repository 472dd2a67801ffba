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
import re
import tomllib
from datetime import date
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
    spool_dir: str | None = None  # messages accepted while the database is down (bot/spool.py)
    spool_retry_seconds: float = Field(2.0, gt=0)


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
    handoff_timeout_minutes: int = Field(120, ge=1)  # silence from both sides, in office hours when set


class IntakeSettings(_Section):
    """The report form (handlers/intake.py); its timeout is dialog.conversation_ttl_minutes."""

    timeout_check_seconds: float = Field(60.0, gt=0)  # how often expired forms are cancelled and notified


class DedupSettings(_Section):
    retention_hours: int = Field(48, ge=1)
    running_lease_seconds: float = Field(30.0, gt=0)
    turn_lease_seconds: float = Field(30.0, gt=0)
    heartbeat_seconds: float = Field(1.0, gt=0)
    worker_silent_seconds: float = Field(5.0, gt=0)

    @model_validator(mode="after")
    def _silence_outlasts_beats(self) -> "DedupSettings":
        if self.worker_silent_seconds < 2 * self.heartbeat_seconds:
            raise ValueError("worker_silent_seconds must be at least twice heartbeat_seconds")
        return self


class NluSettings(_Section):
    threshold: float = Field(0.5, ge=0, le=1)


class PointsSettings(_Section):
    """Award rules (points per cause) and when reminders and the monthly leaderboard go out."""

    per_volunteer_hour: int = Field(10, ge=0)  # an activity created without points gets hours × this
    per_verified_report: int = Field(5, ge=0)  # a resident's report that staff verified
    per_mediation: int = Field(20, ge=0)  # taking part in a mediation (调解)
    reminder_hour: int = Field(18, ge=0, le=23)  # day-before reminders go out from this local hour
    reminder_lead_minutes: int = Field(60, ge=5, le=720)  # the "starting soon" reminder
    reminder_interval_minutes: float = Field(5.0, gt=0)  # how often due reminders are looked for
    leaderboard_hour: int = Field(9, ge=0, le=23)  # local hour on the 1st of the month
    leaderboard_size: int = Field(10, ge=1, le=50)
    history_page_size: int = Field(10, ge=1, le=30)
    attendance_grace_minutes: int = Field(1440, ge=0, le=10080)  # staff may mark attendance until this long after the end


class LogSettings(_Section):
    """Text for a terminal; JSON (one object a line, every field of the record) for production.
    With ``openid_key`` set, openids are replaced by a keyed hash (bot/logs.py); JSON needs it."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"
    openid_key: str = ""  # a secret (from LINLI_LOG__OPENID_KEY); the same in every process, so hashes match

    @field_validator("openid_key")
    @classmethod
    def _long_enough(cls, key: str) -> str:
        if key and len(key) < 16:
            raise ValueError("must be at least 16 characters (a random secret, e.g. from `openssl rand -hex 16`)")
        return key

    @model_validator(mode="after")
    def _key_for_json(self) -> "LogSettings":
        if self.format == "json" and not self.openid_key:
            raise ValueError('openid_key is required when format = "json" (set LINLI_LOG__OPENID_KEY): '
                             "production logs never carry a raw openid")
        return self


class ObservabilitySettings(_Section):
    """/readyz and /metrics (bot/observability)."""

    metrics: bool = True  # serve /metrics (Prometheus text format)
    db_timeout_seconds: float = Field(1.0, gt=0, le=10)  # /readyz's database check and the database gauges
    db_gauges_max_age_seconds: float = Field(15.0, ge=0)  # outbox backlog and overdue tickets: re-read at most this often


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


# ---- tickets (工单) ---------------------------------------------------------------------------

TicketTeam = Literal["member_household", "grid_worker", "staff", "mediation", "street"]
Grade = Literal["red", "yellow", "blue"]
_LIMIT = re.compile(r"^[1-9][0-9]*(m|h|wd)$")


class SlaRule(_Section):
    """Deadlines for the tickets a rule matches: first matching rule wins, the last matches all.

    A limit is "30m" or "24h" (wall-clock minutes / hours) or "7wd" (Chinese working days: due at
    ``workday_end`` of the Nth working day after the day of the report). Empty conditions match any.
    """

    name: str
    grades: list[Grade] = Field(default_factory=list)
    kinds: list[Literal["complaint", "repair", "suggestion"]] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    respond: str
    resolve: str

    @field_validator("respond", "resolve")
    @classmethod
    def _limit(cls, value: str) -> str:
        if not _LIMIT.match(value):
            raise ValueError('must look like "30m", "24h" or "7wd" (working days)')
        return value

    @property
    def catch_all(self) -> bool:
        return not (self.grades or self.kinds or self.categories)


def _default_sla() -> list[SlaRule]:
    """Beijing 12345 practice: emergencies 2 h; water/power/gas/heating 24 h; general 7 working
    days; complex 15 working days. Complex here: disputes, illegal building and property-service
    quarrels (several parties to bring together) and suggestions (they need study)."""
    return [
        SlaRule(name="red", grades=["red"], respond="30m", resolve="2h"),
        SlaRule(name="utilities", categories=["water_drain", "electricity", "gas", "heating"], respond="2h",
                resolve="24h"),
        SlaRule(name="complex", categories=["neighbours", "illegal_building", "property_service"], respond="24h",
                resolve="15wd"),
        SlaRule(name="complex", kinds=["suggestion"], respond="24h", resolve="15wd"),
        SlaRule(name="general", respond="24h", resolve="7wd"),
    ]


class TicketRoute(_Section):
    """Who takes a grade's tickets, and who is told about a new one."""

    assign: TicketTeam
    notify: list[TicketTeam] = Field(default_factory=list)


def _default_routing() -> dict[str, TicketRoute]:
    return {
        "blue": TicketRoute(assign="member_household", notify=["member_household", "grid_worker"]),
        "yellow": TicketRoute(assign="mediation", notify=["staff", "mediation"]),
        "red": TicketRoute(assign="staff", notify=["staff", "street"]),
    }


class TicketTeams(_Section):
    """Openids (of this community's account) of staff who follow it and get ticket notices in chat."""

    staff: list[str] = Field(default_factory=list)      # community staff (社区工作者)
    mediation: list[str] = Field(default_factory=list)  # mediation team: lawyer, auxiliary police, secretary
    street: list[str] = Field(default_factory=list)     # street (街道) platform, alerted on red tickets


class TicketSettings(_Section):
    workday_end: str = Field("18:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    duplicate_window_hours: int = Field(72, ge=1)
    feedback_timeout_days: int = Field(3, ge=1)
    service_window_hours: int = Field(48, ge=1, le=48)
    check_interval_minutes: float = Field(5.0, gt=0)  # the feedback-timeout job (督办 runs with reminders)
    default_grade: Grade = "blue"
    grade_by_category: dict[str, Grade] = Field(default_factory=lambda: {
        "neighbours": "yellow", "illegal_building": "yellow", "safety_hazard": "yellow"})
    sla: list[SlaRule] = Field(default_factory=_default_sla)
    routing: dict[Grade, TicketRoute] = Field(default_factory=_default_routing)
    teams: dict[str, TicketTeams] = Field(default_factory=dict)  # community slug → its teams
    # Inside a flat: duplicates need the same unit and room; other categories match the building.
    in_flat_categories: list[str] = Field(default_factory=lambda: [
        "leak", "water_drain", "heating", "wall_roof", "electricity", "gas"])
    red_duplicate_window_minutes: int = Field(120, ge=0)  # a second red report joins the first (0: never)
    # The official calendar overlay: days off and make-up workdays the chinesecalendar package
    # does not know yet (a new year's State Council notice), or local changes.
    holidays: list[date] = Field(default_factory=list)
    extra_workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> "TicketSettings":
        if not self.sla or not self.sla[-1].catch_all:
            raise ValueError("the last [[tickets.sla]] rule must have no grades, kinds or categories")
        self.routing = {**_default_routing(), **self.routing}  # a grade not configured keeps its default
        return self


class ConsoleSettings(_Section):
    """The staff console at /console (bot/console). Sessions are kept in the database; the cookie
    holds only a random token, so there is no signing key to keep secret."""

    enabled: bool = True
    cookie_secure: bool = True  # send the session cookie over HTTPS only (set false for plain-HTTP local use)
    session_idle_hours: float = Field(12.0, gt=0)  # a session unused this long ends
    session_max_days: float = Field(7.0, gt=0)  # … and any session ends after this long
    login_window_minutes: int = Field(15, ge=1)  # failed logins are counted over this window …
    login_max_failures: int = Field(5, ge=1)  # … per username
    login_max_failures_per_ip: int = Field(20, ge=1)  # … and per client address
    client_ip_header: str = ""  # e.g. "X-Real-IP" when nginx sets it; empty: the TCP peer address
    page_size: int = Field(30, ge=5, le=200)
    live_poll_seconds: float = Field(1.0, gt=0)  # how often a live thread page looks for new messages
    live_max_seconds: float = Field(300.0, gt=0)  # a live stream is closed after this (the browser reconnects)
    threads_poll_seconds: float = Field(5.0, ge=1)  # how often the list of escalated threads refreshes itself
    # When staff answer escalated threads: Chinese working days (holidays and make-up workdays
    # counted), these local (Asia/Shanghai) periods. Outside them the resident is told when.
    # Empty: no promise is made (the hand-off message says nothing about when).
    office_hours: list[str] = Field(default_factory=list)

    @field_validator("office_hours")
    @classmethod
    def _periods(cls, periods: list[str]) -> list[str]:
        pattern = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$")
        for period in periods:
            if not pattern.match(period) or period[:5] >= period[6:]:
                raise ValueError(f'{period!r}: each period must look like "08:30-12:00", start before end')
        return sorted(periods)


# ---- member households (党员中心户) and reminders -------------------------------------------

_CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class MembersSettings(_Section):
    """Binding codes, follow-up visits (约访) and the daily digest; local times are Asia/Shanghai."""

    binding_code_ttl_hours: float = Field(72.0, gt=0)  # a staff-issued code expires after this
    binding_max_failures: int = Field(5, ge=1)  # wrong codes per openid within the window …
    binding_failure_window_minutes: int = Field(60, ge=1)  # … before binding is refused for a while
    visit_delivery_hour: int = Field(9, ge=0, le=23)  # a visit reminder goes out at this local hour of the due day
    second_reminder_days: int = Field(2, ge=1)  # not logged by due + this → a second reminder
    escalation_days: int = Field(4, ge=1)  # not logged by due + this → grid worker and staff are told
    digest_time: str = Field("08:00", pattern=_CLOCK)  # the daily digest to grid workers and member households

    @model_validator(mode="after")
    def _order(self) -> "MembersSettings":
        if self.escalation_days <= self.second_reminder_days:
            raise ValueError("escalation_days must be later than second_reminder_days")
        return self


class RemindersSettings(_Section):
    """The reminder machinery (storage/reminders.py, bot/reminder_jobs.py)."""

    interval_seconds: float = Field(60.0, gt=0)  # how often due reminders are claimed and queued
    batch_size: int = Field(500, ge=1, le=5000)  # reminders claimed per transaction
    claim_lease_seconds: float = Field(120.0, gt=0)  # a claim not finished by then is taken again
    max_attempts: int = Field(5, ge=1)  # a reminder that fails this often is marked failed
    quiet_start: str = Field("22:00", pattern=_CLOCK)  # nothing is sent from here …
    quiet_end: str = Field("08:00", pattern=_CLOCK)  # … until here (held, then sent); equal times: no quiet hours
    retention_days: int = Field(60, ge=1)  # finished reminder rows older than this are deleted


class Settings(_Section):
    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    wechat: WechatApiSettings = Field(default_factory=WechatApiSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    dialog: DialogSettings = Field(default_factory=DialogSettings)
    dedup: DedupSettings = Field(default_factory=DedupSettings)
    nlu: NluSettings = Field(default_factory=NluSettings)
    points: PointsSettings = Field(default_factory=PointsSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    tickets: TicketSettings = Field(default_factory=TicketSettings)
    members: MembersSettings = Field(default_factory=MembersSettings)
    reminders: RemindersSettings = Field(default_factory=RemindersSettings)
    intake: IntakeSettings = Field(default_factory=IntakeSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
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
        for slug in set(self.tickets.teams) - slugs:
            raise ValueError(f"tickets.teams.{slug}: {slug!r} is not in [[communities]]")
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
