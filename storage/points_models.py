"""Points (积分) and volunteering tables: ledger, mall, orders, activities, sign-ups, skills."""

from __future__ import annotations

from storage.models import Base  # noqa: F401
