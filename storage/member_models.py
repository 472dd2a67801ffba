"""Member-household work tables: binding codes, care households, visit schedules, reminders."""

from __future__ import annotations

from storage.models import Base  # noqa: F401
