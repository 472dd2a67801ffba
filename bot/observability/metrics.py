"""The process's Prometheus metrics and the few calls the hot path makes.

The endpoint handles about a thousand messages a second per core, so a message costs one dict
lookup and one increment: label children are built once per label combination and cached
(``Counter.labels`` validates and locks on every call). Label values come from closed sets
(message kinds, events, intents, outbox kinds), so the number of series stays small whatever
arrives.

Multiprocess mode: when ``PROMETHEUS_MULTIPROC_DIR`` is set before start-up, prometheus_client
keeps every value in memory-mapped files in that directory, and a scrape of any worker adds up
all of them (see ``registry()``). That is what makes one /metrics behind one SO_REUSEPORT port
show the whole server, not the one worker the scrape happened to reach.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.multiprocess import MultiProcessCollector

from bot.events import EVENTS, MESSAGE_KINDS
from nlp.intents import INTENTS

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

disable_created_metrics()  # no *_created series: half the output, and multiprocess mode has none either

MESSAGES = Counter("linli_messages", "Messages and events received from WeChat (first deliveries), by type and "
                   "intent", ["type", "intent"])
RETRIES = Counter("linli_message_retries", "WeChat redeliveries answered from the first attempt, by type", ["type"])
# WeChat gives up after 5 s; the target is p99 under 100 ms.
REPLY_LATENCY = Histogram("linli_reply_latency_seconds", "From a WeChat POST's arrival to its response (passive "
                          "reply or 'success')", buckets=(.005, .01, .025, .05, .075, .1, .15, .25, .5, 1, 2, 3, 4,
                                                          4.5, 5))
DEADLINE_MISSES = Counter("linli_deadline_misses", "Replies not ready within server.reply_deadline_seconds (they go "
                          "out later through the outbox)")
OUTBOX_DELIVERIES = Counter("linli_outbox_deliveries", "Outbox send attempts by message kind and result (sent, "
                            "retry, failed)", ["kind", "result"])
# The last run's lag is one fact for all processes: the most recently written value wins.
SCHEDULER_LAG = Gauge("linli_scheduler_lag_seconds", "How late the last run of each periodic job started after its "
                      "scheduled time", ["job"], multiprocess_mode="mostrecent")
SCHEDULER_RUNS = Counter("linli_scheduler_runs", "Periodic job runs by result (ok, error, missed, skipped)",
                         ["job", "result"])

OUTBOX_KINDS = frozenset({"text", "image", "template", "subscribe"})
OUTBOX_RESULTS = {"mark_sent": "sent", "mark_retry": "retry", "mark_failed": "failed"}
_KNOWN_INTENTS = frozenset(INTENTS)

_message_children: dict[tuple, Any] = {}
_outbox_children: dict[tuple, Any] = {}


def observe_message(ctx) -> None:
    """Called once per delivery by the dispatcher, after the middleware chain has run."""
    event = ctx.event
    key = (event.kind, event.event, ctx.intent, ctx.duplicate)
    child = _message_children.get(key)
    if child is None:
        child = _message_child(key)
    child.inc()


def _message_child(key: tuple) -> Any:
    kind, event, intent, duplicate = key
    known = kind in MESSAGE_KINDS and (event is None or event in EVENTS) and (intent is None or intent in _KNOWN_INTENTS)
    kind_label = message_type(kind, event) if known else "unknown"
    if duplicate:
        child = RETRIES.labels(kind_label)
    else:
        intent_label = "none" if intent is None else (intent if intent in _KNOWN_INTENTS else "unknown")
        child = MESSAGES.labels(kind_label, intent_label)
    if known:  # only closed-set keys are cached, so the cache cannot grow without bound
        _message_children[key] = child
    return child


def message_type(kind: str, event: str | None) -> str:
    """"text", "image", … for messages; "event:subscribe", … for events (as the message log spells it)."""
    return f"event:{event}" if kind == "event" and event else kind


def observe_outbox(kind: str, mark_name: str) -> None:
    """Called by the outbox worker once per recorded outcome (mark_sent / mark_retry / mark_failed)."""
    key = (kind, mark_name)
    child = _outbox_children.get(key)
    if child is None:
        child = OUTBOX_DELIVERIES.labels(kind if kind in OUTBOX_KINDS else "unknown",
                                         OUTBOX_RESULTS.get(mark_name, "unknown"))
        if kind in OUTBOX_KINDS and mark_name in OUTBOX_RESULTS:
            _outbox_children[key] = child
    child.inc()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


class _ThisProcess:
    """The default registry (our metrics plus process and GC collectors) as one collector."""

    def collect(self):
        return REGISTRY.collect()


def registry(*extra, path: str | None = None) -> CollectorRegistry:
    """What /metrics shows: this process's metrics, or — in multiprocess mode (``path``, default
    $PROMETHEUS_MULTIPROC_DIR) — every process's, added up from their files; plus ``extra``
    collectors (the database gauges, which are facts about the database, not about a process)."""
    scrape = CollectorRegistry(auto_describe=False)
    path = path or multiprocess_dir()
    if path:
        MultiProcessCollector(scrape, path=path)
    else:
        scrape.register(_ThisProcess())
    for collector in extra:
        scrape.register(collector)
    return scrape
