"""Who may do what: roles grant permissions, scopes limit where.

Every view asks here on the server (``staff.require(...)``, ``staff.sees_ticket(...)``); the
pages only hide what a role cannot use, they never decide.

- admin: everything in every community of the deployment, including staff accounts and the
  notice templates;
- community_staff: everything in its community (tickets, threads, management, dashboard);
- grid_worker: tickets and escalated threads of its grids, and their dashboard;
- street_staff: tickets and the dashboard of the communities it oversees.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.texts import console as texts

ALL_ROLES = frozenset({"admin", "community_staff", "grid_worker", "street_staff"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "tickets": ALL_ROLES,
    "threads": frozenset({"admin", "community_staff", "grid_worker"}),
    "dashboard": ALL_ROLES,
    "manage": frozenset({"admin", "community_staff"}),
    "staff": frozenset({"admin"}),
    "templates": frozenset({"admin"}),  # notice templates: ids from the WeChat console
    "audit": frozenset({"admin"}),
}


class Forbidden(web.HTTPForbidden):
    """Raised by ``require``; rendered as the 403 page."""


@dataclass(frozen=True)
class Staff:
    """The logged-in staff member for one request."""

    id: int
    username: str
    name: str
    role: str
    session_id: int
    csrf: str
    community_id: int  # the community the console shows now
    community_ids: frozenset[int]
    grid_ids: frozenset[int] | None  # None: all grids of community_ids

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(text=texts.FORBIDDEN)

    def sees(self, community_id: int, grid_id: int | None) -> bool:
        """A record in this community (and grid) is within reach."""
        if community_id not in self.community_ids:
            return False
        return self.grid_ids is None or grid_id in self.grid_ids

    def sees_ticket(self, ticket) -> bool:
        return self.sees(ticket.community_id, ticket.grid_id)

    @property
    def role_name(self) -> str:
        return texts.ROLE_NAMES.get(self.role, self.role)

    @property
    def audit_name(self) -> str:
        return f"{self.username}（{self.name}）"
