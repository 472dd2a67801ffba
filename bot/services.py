"""Services: the long-lived things a request or job needs, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

from bot.config import AccountSettings, Settings
from storage.db import Database
from storage.workers import new_worker_id


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    settings: Settings
    db: Database
    nlu: Any  # nlp.NluEngine
    community_ids: Mapping[str, int]  # community slug → id
    wake_outbox: Callable[[], None] = lambda: None
    clock: Callable[[], datetime] = utcnow
    extras: dict[str, Any] = field(default_factory=dict)
    worker_id: str = field(default_factory=new_worker_id)  # this process, in claims and heartbeats
    spool: Any = None  # bot.spool.Spool: where messages wait while the database is down (None: nowhere)

    def account(self, name: str) -> AccountSettings:
        account = self.settings.account(name)
        if account is None:
            raise KeyError(name)
        return account

    def community_id_for(self, account_name: str) -> int:
        return self.community_ids[self.account(account_name).community]
