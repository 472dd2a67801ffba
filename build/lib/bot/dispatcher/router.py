"""Routers: handler modules register functions with filters; the first match answers.

Modelled on aiogram 3: one Router per handler module, included into a root router in order, so
priorities are explicit (dialog steps before intents, intents before the fallback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable

from bot.dispatcher.context import Context
from bot.replies import Reply

Handler = Callable[[Context], Awaitable[Reply | None]]
Filter = Callable[[Context], bool]


@dataclass(frozen=True)
class Route:
    handler: Handler
    filters: tuple[Filter, ...]

    def matches(self, ctx: Context) -> bool:
        return all(f(ctx) for f in self.filters)


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []
        self.children: list[Router] = []

    def on(self, *filters: Filter, kind: str | Iterable[str] | None = None, event: str | Iterable[str] | None = None,
           intent: str | Iterable[str] | None = None, state: str | Iterable[str] | None = None,
           state_prefix: str | None = None) -> Callable[[Handler], Handler]:
        """Register a handler; keyword shortcuts are ANDed with any filter functions."""
        built = list(filters)
        if kind is not None:
            built.append(_member(lambda c: c.event.kind, kind))
        if event is not None:
            built.append(_member(lambda c: c.event.event, event))
        if intent is not None:
            built.append(_member(lambda c: c.intent, intent))
        if state is not None:
            built.append(_member(lambda c: c.dialog.state if c.dialog else None, state))
        if state_prefix is not None:
            built.append(lambda c: bool(c.dialog and c.dialog.state and c.dialog.state.startswith(state_prefix)))

        def register(handler: Handler) -> Handler:
            self.routes.append(Route(handler, tuple(built)))
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


def _member(get: Callable[[Context], object], wanted: str | Iterable[str]) -> Filter:
    options = frozenset([wanted] if isinstance(wanted, str) else wanted)
    return lambda ctx: get(ctx) in options
