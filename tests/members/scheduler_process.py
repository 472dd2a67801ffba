"""One scheduler as an OS process of its own, for the exactly-once tests (not a test module).

    python -m tests.members.scheduler_process DATABASE_URL NOW BATCH_SIZE

It connects with its own engine, prints "ready", waits for a line on stdin (so every process
starts at once), runs the real reminder job (bot.reminder_jobs.send_due) at the clock time NOW
(ISO 8601) until nothing is due, and prints {"sent": N} as its last line.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime


async def run(url: str, now: datetime, batch_size: int) -> int:
    from bot import reminder_jobs
    from bot.services import Services
    from storage import communities
    from storage.db import Database
    from tests.members.conftest import member_settings

    db = Database(url)
    try:
        async with db.sessions.begin() as session:
            ids = await communities.ensure(session, [("test", "测试社区")])
        services = Services(settings=member_settings(url, reminders={"batch_size": batch_size}), db=db, nlu=None,
                            community_ids=ids, clock=lambda: now)
        print("ready", flush=True)
        sys.stdin.readline()
        return await reminder_jobs.send_due(services)
    finally:
        await db.dispose()


if __name__ == "__main__":
    url, now, batch = sys.argv[1], datetime.fromisoformat(sys.argv[2]), int(sys.argv[3])
    print(json.dumps({"sent": asyncio.run(run(url, now, batch))}), flush=True)
