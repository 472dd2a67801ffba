"""Conversation logic, one module per intent; handlers return replies and never touch XML or HTTP.

The order of inclusion is the order of priority: hand-off first (the bot stays quiet while staff
talk), then events and media, then asking back when unsure, then intents, and the fallback last.
"""

from bot.dispatcher.router import Router


def build_router() -> Router:
    from handlers import clarify, consult, events, fallback, greeting, handoff, media

    root = Router("root")
    root.include(handoff.router, events.router, media.router, clarify.router, greeting.router,
                 consult.router, fallback.router)
    return root
