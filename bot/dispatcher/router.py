"""Routers: handler modules register functions with filters; the first match answers.

Modelled on aiogram 3: one Router per handler module, included into a root router in order, so
priorities are explicit (dialog steps before intents, intents before the fallback).

Every message is offered to every route until one matches (some sixty of them), so a route
checks its keyword conditions (kind, event, intent, step) first, as plain set lookups, and runs
its filter functions — often regular expressions — only when those pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable

from bot.dispatcher.context import Context
from bot.replies import Reply

Handler = Callable[[Context], Awaitable[Reply | None]]
Filter = Callable[[Context], bool]
Options = frozenset | None


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    filters: tuple[Filter, ...] = ()
    kinds: Options = None
    events: Options = None
    intents: Options = None
    states: Options = None

    def matches(self, ctx: Context) -> bool:
        if self.kinds is not None and ctx.event.kind not in self.kinds:
            return False
        if self.events is not None and ctx.event.event not in self.events:
            return False
        if self.intents is not None and ctx.intent not in self.intents:
            return False
        if self.states is not None and (ctx.dialog.state if ctx.dialog else None) not in self.states:
            return False
        for check in self.filters:
            if not check(ctx):
                return False
        return True


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []
        self.children: list[Router] = []

    def on(self, *filters: Filter, kind: str | Iterable[str] | None = None, event: str | Iterable[str] | None = None,
           intent: str | Iterable[str] | None = None, state: str | Iterable[str] | None = None,
           state_prefix: str | None = None) -> Callable[[Handler], Handler]:
        """Register a handler; keyword conditions are ANDed with any filter functions."""
        built = list(filters)
        if state_prefix is not None:
            built.insert(0, lambda c: bool(c.dialog and c.dialog.state and c.dialog.state.startswith(state_prefix)))

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(handler, tuple(built), kinds=_options(kind), events=_options(event),
                                     intents=_options(intent), states=_options(state)))
            return handler
        return register

    def include(self, *routers: "Router") -> None:
        self.children.extend(routers)

    def resolve(self, ctx: Context) -> Handler | None:
        for route in self.routes:
            if route.matches(ctx):
                return route.handler
        for child in self.children:
            found = child.resolve(ctx)
            if found is not None:
                return found
        return None


def _options(wanted: str | Iterable[str] | None) -> Options:
    if wanted is None:
        return None
    return frozenset([wanted] if isinstance(wanted, str) else wanted)
