"""Staff console tables: staff accounts and roles, login attempts, sessions, the staff audit log."""

from __future__ import annotations

from storage.models import Base  # noqa: F401
