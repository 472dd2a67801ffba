"""Routers: handler modules register functions with filters; the first match answers.

Modelled on aiogram 3: one Router per handler module, included into a root router in order, so
priorities are explicit (dialog steps before intents, intents before the fallback).

Every message is offered to the routes in order until one matches (some sixty of them). The
keyword conditions (kind, event, intent, step) depend only on those four values, so the root
router indexes its routes by them: for each combination met, the routes whose keywords accept
it, in order, worked out once. A message then runs only those routes' filter functions (often
regular expressions). Filters must not change the four values (none does); registering a route
anywhere clears every index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Iterable

from bot.dispatcher.context import Context
from bot.replies import Reply

Handler = Callable[[Context], Awaitable[Reply | None]]
Filter = Callable[[Context], bool]
Options = frozenset | None
Key = tuple  # (kind, event, intent, step) of one message
MAX_INDEXED = 4096


@dataclass(frozen=True, slots=True)
class Route:
    handler: Handler
    filters: tuple[Filter, ...] = ()
    kinds: Options = None
    events: Options = None
    intents: Options = None
    states: Options = None

    def accepts(self, key: Key) -> bool:
        """The keyword conditions."""
        kind, event, intent, state = key
        return ((self.kinds is None or kind in self.kinds) and (self.events is None or event in self.events)
                and (self.intents is None or intent in self.intents) and (self.states is None or state in self.states))


def key_of(ctx: Context) -> Key:
    return ctx.event.kind, ctx.event.event, ctx.intent, ctx.dialog.state if ctx.dialog else None


class Router:
    registrations = 0  # counts registrations in every router: an index built before a change is stale

    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []
        self.children: list[Router] = []
        self._index: dict[Key, tuple[Route, ...]] = {}
        self._index_as_of = -1

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
            Router.registrations += 1
            return handler
        return register

    def include(self, *routers: "Router") -> None:
        self.children.extend(routers)
        Router.registrations += 1

    def resolve(self, ctx: Context) -> Handler | None:
        """The handler of the first route, in order, whose filters all pass (the loop is here,
        not in a Route method: a text message meets some twenty filters)."""
        for route in self._candidates(key_of(ctx)):
            for check in route.filters:
                if not check(ctx):
                    break
            else:
                return route.handler
        return None

    def all_routes(self) -> Iterable[Route]:
        """This router's routes, then its children's, in priority order."""
        yield from self.routes
        for child in self.children:
            yield from child.all_routes()

    def _candidates(self, key: Key) -> tuple[Route, ...]:
        if self._index_as_of != Router.registrations:
            self._index, self._index_as_of = {}, Router.registrations
        found = self._index.get(key)
        if found is None:
            if len(self._index) >= MAX_INDEXED:  # steps and menu intents are few; stay bounded anyway
                self._index.clear()
            found = self._index[key] = tuple(route for route in self.all_routes() if route.accepts(key))
        return found


def _options(wanted: str | Iterable[str] | None) -> Options:
    if wanted is None:
        return None
    return frozenset([wanted] if isinstance(wanted, str) else wanted)
