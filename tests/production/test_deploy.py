"""The deployment guide (docs/deploy.md) and its files say only what is true: the commands exist,
the environment names are settings, the nginx limits fit WeChat's 5 s, and the backup and the
restore drill really restore."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import click
import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.config import load_settings
from storage import communities
from storage.db import Database
from storage.models import Resident
from tests.postgres import postgres_bin_dir
from tests.production.processes import ROOT, write_config

DOCS = ROOT / "docs"
DEPLOY = DOCS / "deploy"
LINLI = re.compile(r"(?:/opt/linli/\.venv/bin/linli|\blinli-admin|^linli)\s+(.*)$")


def _unit(name: str) -> dict[str, list[str]]:
    """A systemd unit's keys (repeated keys keep every value)."""
    keys: dict[str, list[str]] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            keys.setdefault(key.strip(), []).append(value.strip())
    return keys


def _parses(args: list[str]) -> None:
    """The real CLI accepts the command, its options and their values (without running it; our
    groups take no options of their own, so the leading words name the command)."""
    command, name, rest = main, "linli", list(args)
    while isinstance(command, click.Group):
        name, *rest = rest
        command = command.get_command(click.Context(main), name)
        assert command is not None, f"no command {name!r} in linli {shlex.join(args)}"
    command.make_context(name, rest)


@pytest.mark.parametrize("unit", ["linli.service", "linli-scheduler.service"])
def test_units_run_real_commands_with_the_environment_file(unit):
    keys = _unit(unit)
    binary, *args = shlex.split(keys["ExecStart"][0])
    assert binary == "/opt/linli/.venv/bin/linli"
    _parses(args)
    assert keys["EnvironmentFile"] == ["/etc/linli/linli.env"] and keys["Restart"] == ["always"]
    assert "PROMETHEUS_MULTIPROC_DIR=/run/linli-metrics" in keys["Environment"]


def test_the_server_unit_stops_gracefully_through_the_supervisor():
    keys = _unit("linli.service")
    assert keys["KillMode"] == ["mixed"] and keys["KillSignal"] == ["SIGTERM"]
    assert int(keys["TimeoutStopSec"][0]) > 30  # the supervisor waits up to 30 s for its workers
    assert keys["RuntimeDirectory"] == ["linli-metrics"]
    assert "--workers" in keys["ExecStart"][0] and "--no-scheduler" in keys["ExecStart"][0]
    assert _unit("linli-scheduler.service")["PartOf"] == ["linli.service"]
    assert _unit("linli-backup.service")["ExecStart"] == ["/usr/local/bin/linli-backup"]
    assert _unit("linli-backup.timer")["OnCalendar"] == ["*-*-* 03:30:00"]


def test_every_linli_command_in_the_guide_parses():
    commands = [match.group(1) for line in _code_lines(DOCS / "deploy.md") if (match := LINLI.search(line))]
    assert len(commands) >= 4
    for command in commands:
        _parses(shlex.split(command.split("#")[0]))


def _code_lines(path: Path) -> list[str]:
    """The lines of the guide's ```bash blocks (the admin function's own body left out)."""
    lines, inside = [], False
    for line in path.read_text().splitlines():
        if line.strip().startswith("```"):
            inside = line.strip() == "```bash"
        elif inside and "exec /opt/linli" not in line:
            lines.append(line.strip())
    return lines


def test_the_environment_file_names_real_settings():
    values = {"LINLI_DATABASE__URL": "postgresql+asyncpg://linli:pw@127.0.0.1:5432/linli",
              "LINLI_ACCOUNTS__MAIN__ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
              "LINLI_ACCOUNTS__MAIN__PREVIOUS_ENCODING_AES_KEY": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
              "LINLI_LOG__OPENID_KEY": "0123456789abcdef0123456789abcdef"}
    environ = {}
    for line in (DEPLOY / "linli.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            environ[name] = values.get(name, value)
    settings = load_settings(ROOT / "config.example.toml", environ=environ)
    account = settings.account("main")
    assert settings.database.url == values["LINLI_DATABASE__URL"] and settings.log.format == "json"
    assert account.secret == environ["LINLI_ACCOUNTS__MAIN__SECRET"]
    assert account.token == environ["LINLI_ACCOUNTS__MAIN__TOKEN"]
    assert account.previous_encoding_aes_key == values["LINLI_ACCOUNTS__MAIN__PREVIOUS_ENCODING_AES_KEY"]
    assert environ["LINLI_CONFIG"] == "/etc/linli/config.toml"


def test_nginx_keeps_under_wechats_five_seconds_and_hides_the_rest():
    conf = (DEPLOY / "nginx-linli.conf").read_text()
    wechat = re.search(r"location /wechat/ \{(.*?)\}", conf, re.S).group(1)
    for directive in ("proxy_connect_timeout", "proxy_send_timeout", "proxy_read_timeout"):
        assert _seconds(re.search(rf"{directive} (\S+);", wechat).group(1)) < 5
    assert "proxy_next_upstream off;" in wechat
    assert re.search(r"listen 443 ssl", conf) and "ssl_certificate " in conf
    limit = _size(re.search(r"^    client_max_body_size (\S+);", conf, re.M).group(1))
    assert limit <= 65536  # [server] max_body_bytes, config.example.toml
    assert "max_body_bytes = 65536" in (ROOT / "config.example.toml").read_text()
    assert re.search(r"location / \{\s*return 404;", conf)
    assert "proxy_buffering off;" in re.search(r"location /console/threads/ \{(.*?)\}", conf, re.S).group(1)


def _seconds(value: str) -> float:
    return float(value[:-2]) / 1000 if value.endswith("ms") else float(value.rstrip("s"))


def _size(value: str) -> int:
    return int(value[:-1]) * {"k": 1024, "m": 1024 ** 2}[value[-1].lower()]


async def test_the_backup_restores_in_the_drill(pg_url, tmp_path):
    db = Database(pg_url)
    try:
        async with db.sessions.begin() as session:
            community = (await communities.ensure(session, [("test", "测试社区")]))["test"]
            session.add_all(Resident(community_id=community, openid=f"o_backup_{i}") for i in range(3))
    finally:
        await db.dispose()
    env = {**os.environ, "PATH": f"{postgres_bin_dir()}:{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
           "LINLI_DATABASE__URL": pg_url, "LINLI_BACKUP_DIR": str(tmp_path / "backups"),
           "LINLI_CONFIG": str(write_config(tmp_path, pg_url, "http://127.0.0.1:9")),
           "LINLI_DRILL_DATABASE": f"linli_drill_{os.getpid()}"}
    backup = _run(DEPLOY / "linli-backup", env)
    dump = Path(backup.stdout.strip())
    assert dump.parent == tmp_path / "backups" and dump.name.startswith("linli-") and dump.stat().st_size > 0
    assert not list(dump.parent.glob("*.partial"))

    drill = _run(DEPLOY / "linli-restore-drill", env)
    assert "residents 3" in drill.stdout and "tickets 0" in drill.stdout
    assert drill.stdout.strip().endswith(f"restore drill passed: {dump}")
    gone = subprocess.run(["psql", "-X", "-A", "-t", "--dbname", pg_url.replace("+asyncpg", ""), "-c",
                           f"SELECT count(*) FROM pg_database WHERE datname = '{env['LINLI_DRILL_DATABASE']}'"],
                          env=env, capture_output=True, text=True, check=True)
    assert gone.stdout.strip() == "0"  # the scratch database is dropped again
    db = Database(pg_url)
    try:
        async with db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Resident)) == 3  # the original is untouched
    finally:
        await db.dispose()


def _run(script: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    return result
