"""Ticket tables (工单): the ticket, its reporters, attachments and the event log (audit trail)."""

from __future__ import annotations

from storage.models import Base  # noqa: F401
