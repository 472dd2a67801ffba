"""One "worker" process for the multiprocess metrics test (not a test module).

    PROMETHEUS_MULTIPROC_DIR=DIR python -m tests.observability.metrics_worker MESSAGES LAG

Records MESSAGES text messages understood as greetings through the dispatcher's own call
(bot.observability.metrics.observe_message on a real Context), one reply latency, and a
scheduler lag of LAG seconds, then exits; the values stay in DIR's files, as a worker's would.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone


def main(messages: int, lag: float) -> None:
    from bot.dispatcher.context import Context
    from bot.dispatcher.middlewares import MenuIntent
    from bot.events import IncomingEvent
    from bot.observability import metrics

    event = IncomingEvent(account="test", openid="o_worker", account_user="gh_test", kind="text", create_time=0,
                          msg_id="1", text="你好")
    ctx = Context(event=event, services=None, community_id=1, now=datetime.now(timezone.utc),
                  nlu=MenuIntent(intent="greeting"))
    for _ in range(messages):
        metrics.observe_message(ctx)
    metrics.REPLY_LATENCY.observe(0.03)
    metrics.SCHEDULER_LAG.labels("reminders").set(lag)
    print(os.getpid())


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
