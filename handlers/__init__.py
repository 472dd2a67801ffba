"""Conversation logic, one module per intent; handlers return replies and never touch XML or HTTP.

The order of inclusion is the order of priority: hand-off first (the bot stays quiet while staff
talk), then events and media, then asking back when unsure, then intents, and the fallback last.
"""

from bot.dispatcher.router import Router


def build_router() -> Router:
    from handlers import clarify, consult, events, fallback, greeting, handoff, intake, media, rating, ticket_status
    from handlers import binding, member_tasks, points, resources, visits, volunteer
    from handlers import misunderstood  # first: a confidently understood message resets the count

    root = Router("root")
    # intake.steps answers an open report form (its photos and short answers too), so it comes
    # before media and asking back; rating words are caught before the NLU's doubt about them.
    # points.steps answers a points dialog's "确认" / "下一页" before asking back, too.
    # Binding codes (and building QR scenes) come before events; member households' task
    # commands and visit logs before the report form, so "完成 … 已修好" never becomes a ticket,
    # and before "转人工" (handoff.requests), so "转交 … 需要电工" or "走访 … 需要帮忙" never starts
    # a thread with staff. While a thread is with staff (handoff.router) the bot stays quiet.
    root.include(misunderstood.router,
                 handoff.router, binding.router, events.router, member_tasks.router, visits.router,
                 handoff.requests, intake.steps,
                 media.router, rating.router, points.steps,
                 clarify.router, intake.router, ticket_status.router, resources.router, points.router,
                 volunteer.router, greeting.router, consult.router, fallback.router)
    return root
