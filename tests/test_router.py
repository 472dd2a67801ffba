"""The router: first match in priority order, keyword conditions before filters, and an index that
follows every registration (bot/dispatcher/router.py)."""

from __future__ import annotations

from types import SimpleNamespace

from bot.dispatcher.router import Router


def _ctx(kind="text", event=None, intent=None, state=None, text=""):
    return SimpleNamespace(event=SimpleNamespace(kind=kind, event=event, text=text), intent=intent,
                           dialog=SimpleNamespace(state=state), text=text)


def _handler(name):
    async def handler(ctx):
        return name
    handler.__name__ = name
    return handler


def test_the_first_matching_route_wins_in_inclusion_order():
    root, first, second = Router("root"), Router("first"), Router("second")
    second.on(intent="greeting")(_handler("second_greeting"))
    first.on(intent="greeting", state="asking")(_handler("first_asking"))
    first.on(lambda ctx: "灯" in ctx.text)(_handler("lamp"))
    root.include(first, second)
    assert root.resolve(_ctx(intent="greeting")).__name__ == "second_greeting"
    assert root.resolve(_ctx(intent="greeting", state="asking")).__name__ == "first_asking"
    assert root.resolve(_ctx(intent="greeting", text="灯坏了")).__name__ == "lamp"
    assert root.resolve(_ctx(intent="complaint")) is None


def test_filters_run_only_where_the_keywords_match():
    root = Router("root")
    calls = []
    root.on(lambda ctx: calls.append("voice") or True, kind="voice")(_handler("voice"))
    root.on(lambda ctx: calls.append("any") or False)(_handler("never"))
    root.on(kind="text")(_handler("text"))
    assert root.resolve(_ctx(kind="text")).__name__ == "text"
    assert calls == ["any"]
    assert root.resolve(_ctx(kind="voice")).__name__ == "voice"
    assert calls == ["any", "voice"]


def test_a_route_registered_after_the_first_message_is_seen():
    root, child = Router("root"), Router("child")
    root.include(child)
    assert root.resolve(_ctx(intent="points_query")) is None  # the index now knows this combination
    child.on(intent="points_query")(_handler("points"))
    assert root.resolve(_ctx(intent="points_query")).__name__ == "points"
    root.on(intent="points_query", event=None)(_handler("earlier"))  # the root's own routes come first
    assert root.resolve(_ctx(intent="points_query")).__name__ == "earlier"


def test_events_and_steps_as_sets():
    root = Router("root")
    root.on(event=("subscribe", "scan"))(_handler("welcome"))
    root.on(state=("a", "b"))(_handler("step"))
    assert root.resolve(_ctx(kind="event", event="scan")).__name__ == "welcome"
    assert root.resolve(_ctx(kind="event", event="click")) is None
    assert root.resolve(_ctx(state="b")).__name__ == "step"
    assert root.resolve(_ctx(kind="image", state=None)) is None
