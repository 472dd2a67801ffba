"""Structured logs: every JSON line parses, carries the record's fields, and never a raw openid
or a whole phone number — whoever wrote the log call (our code, a traceback, aiohttp's access log)."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from bot.app import create_app
from bot.config import ConfigError
from bot.dispatcher.router import Router
from bot.logs import Redactor, make_formatter, setup_logging
from tests.conftest import make_settings
from tests.observability.conftest import OPENID
from tests.wechat_client import WeChatClient

KEY = "test-openid-key-0123456789"
PHONE = "13812345678"


@pytest.fixture
def json_lines():
    """The root logger writes JSON (as `linli serve` with log.format = "json") into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(make_formatter("json", KEY))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(level)


async def test_json_logs_of_real_traffic_hash_openids_and_mask_phones(aiohttp_client, db_url, fake_wechat,
                                                                      nlu_engine, json_lines):
    router = Router("failing")

    @router.on(kind="event", event="subscribe")
    async def fail(ctx):
        raise RuntimeError(f"cannot welcome {ctx.event.openid} ({PHONE})")

    settings = make_settings(db_url, fake_wechat.base_url)
    client = await aiohttp_client(create_app(settings, nlu=nlu_engine, router=router, scheduler=False))
    wechat = WeChatClient(client, settings.accounts[0])
    assert (await wechat.resident(OPENID).event("subscribe")).status == 200
    logging.getLogger("linli.test").warning("resident %s left %s", OPENID, PHONE,
                                            extra={"openid": OPENID, "resident": {"phone": PHONE, "id": 7}})
    lines = json_lines()
    text = json.dumps(lines, ensure_ascii=False)
    assert OPENID not in text and PHONE not in text
    hashed = Redactor(KEY).hash(OPENID)
    failed = next(line for line in lines if line["message"].startswith("handler failed"))
    assert f"e:{hashed}:" in failed["message"]  # the event's dedup key, openid hashed
    assert hashed in failed["exception"] and "138****5678" in failed["exception"]
    assert {"time", "level", "logger", "module", "function", "line", "process"} <= failed.keys()
    assert failed["level"] == "ERROR" and failed["logger"] == "linli.dispatcher"
    access = next(line for line in lines if line["logger"] == "aiohttp.access")
    assert f"openid={hashed}" in access["message"]  # WeChat puts the openid in the server URL's query
    ours = next(line for line in lines if line["logger"] == "linli.test")
    assert ours["message"] == f"resident {hashed} left 138****5678"
    assert ours["openid"] == hashed and ours["resident"] == {"phone": "138****5678", "id": 7}


def test_openids_are_found_by_shape_query_parameter_and_event_key():
    redact = Redactor(KEY)
    hashed = redact.hash(OPENID)
    assert len(hashed) == 12 and int(hashed, 16) >= 0
    assert redact.hash(OPENID) == Redactor(KEY).hash(OPENID)  # stable: the same in every process
    assert Redactor("another-key-0123456789").hash(OPENID) != hashed  # keyed: not a plain digest
    assert redact(f"from {OPENID}.") == f"from {hashed}."
    assert redact("GET /wechat/main?nonce=1&openid=o_short_test&x=2") == \
        f"GET /wechat/main?nonce=1&openid={redact.hash('o_short_test')}&x=2"
    assert redact("e:o_x:1700000000:subscribe") == f"e:{redact.hash('o_x')}:1700000000:subscribe"
    assert redact("m:24201234567890123") == "m:24201234567890123"  # a MsgId is no openid
    assert redact(f"o{'x' * 26}") == f"o{'x' * 26}"  # 27 characters: not WeChat's shape


def test_phones_are_masked_after_openids_are_hashed():
    openid_with_digits = "oAbc13812345678xyzXYZ_-01234"  # 28 characters with a phone-like run inside
    assert len(openid_with_digits) == 28
    assert Redactor(KEY)(openid_with_digits) == Redactor(KEY).hash(openid_with_digits)
    assert Redactor()(f"call {PHONE}") == "call 138****5678"  # no key: phones still masked


def test_text_format_masks_phones_in_the_whole_line_including_tracebacks():
    formatter = make_formatter("text")
    try:
        raise ValueError(f"bad phone {PHONE}")
    except ValueError:
        record = logging.LogRecord("linli.x", logging.ERROR, __file__, 1, "phone %s", (PHONE,), sys.exc_info())
    line = formatter.format(record)
    assert PHONE not in line and line.count("138****5678") == 2


def test_setup_logging_installs_the_configured_format(capsys):
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging(make_settings("sqlite+aiosqlite:///unused.db", log={"format": "json", "openid_key": KEY}).log)
        logging.getLogger("linli.setup").info("hello %s", OPENID)
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert line["message"] == f"hello {Redactor(KEY).hash(OPENID)}" and line["level"] == "INFO"


@pytest.mark.parametrize("log, named", [
    ({"format": "json"}, "log: Value error, openid_key is required"),
    ({"format": "yaml"}, "log.format"),
    ({"openid_key": "short"}, "log.openid_key: Value error, must be at least 16 characters"),
])
def test_bad_log_settings_stop_start_up_naming_the_setting(log, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(")):
        make_settings("sqlite+aiosqlite:///unused.db", log=log)


@pytest.mark.parametrize("observability, named", [
    ({"db_timeout_seconds": 0}, "observability.db_timeout_seconds"),
    ({"db_gauges_max_age_seconds": -1}, "observability.db_gauges_max_age_seconds"),
    ({"metric": True}, "observability.metric"),
])
def test_bad_observability_settings_stop_start_up_naming_the_setting(observability, named):
    with pytest.raises(ConfigError, match=named):
        make_settings("sqlite+aiosqlite:///unused.db", observability=observability)
