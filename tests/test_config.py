"""Settings: TOML plus environment overrides; a bad value names itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def test_the_example_config_is_valid_once_secrets_come_from_the_environment():
    settings = load_settings(EXAMPLE, environ={"LINLI_ACCOUNTS__MAIN__ENCODING_AES_KEY": KEY,
                                               "LINLI_ACCOUNTS__MAIN__SECRET": "s3cret"})
    account = settings.account("main")
    assert account.encoding_aes_key == KEY and account.secret == "s3cret"
    assert settings.server.reply_deadline_seconds == 4.0
    assert account.menu[0].sub_button[0].key == "intent:repair"


def test_environment_overrides_nested_values():
    settings = load_settings(EXAMPLE, environ={"LINLI_ACCOUNTS__MAIN__ENCODING_AES_KEY": KEY,
                                               "LINLI_DATABASE__URL": "postgresql+asyncpg://u:p@127.0.0.1/linli",
                                               "LINLI_SERVER__PORT": "9000"})
    assert settings.database.url.startswith("postgresql+asyncpg://") and settings.server.port == 9000


@pytest.mark.parametrize("environ, named", [
    ({}, "accounts[main]"),  # safe mode without a key
    ({"LINLI_ACCOUNTS__MAIN__ENCODING_AES_KEY": "short"}, "accounts[main].encoding_aes_key"),
    ({"LINLI_ACCOUNTS__MAIN__ENCODING_AES_KEY": KEY, "LINLI_SERVER__PORT": "http"}, "server.port"),
    ({"LINLI_ACCOUNTS__MAIN__ENCODING_AES_KEY": KEY, "LINLI_DATABASE__URL": "mysql://x"}, "database.url"),
    ({"LINLI_ACCOUNTS__MAIN__ENCODING_AES_KEY": KEY, "LINLI_SERVER__REPLY_DEADLINE_SECONDS": "9"},
     "server.reply_deadline_seconds"),
    ({"LINLI_ACCOUNTS__NOPE__TOKEN": "x"}, "no account with name 'nope'"),
])
def test_bad_values_stop_start_up_naming_the_setting(environ, named):
    with pytest.raises(ConfigError) as error:
        load_settings(EXAMPLE, environ=environ)
    assert named in str(error.value)


def test_missing_file_and_bad_toml_are_named(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[server\nport = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad, environ={})


def test_unknown_setting_is_rejected(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace("[server]\n", "[server]\nprot = 1\n")
    path = tmp_path / "typo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"server\.prot"):
        load_settings(path, environ={"LINLI_ACCOUNTS__MAIN__ENCODING_AES_KEY": KEY})
