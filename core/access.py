"""Who may see and change what: roles and unit scope, checked by every service call."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.errors import Forbidden
from core.models import Role

WRITE_ROLES = frozenset({Role.admin, Role.supervisor})


@dataclass(frozen=True)
class Actor:
    """A logged-in admin API user, as the core sees them."""

    user_id: int
    username: str
    role: Role
    unit_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def unit_scope(self) -> frozenset[int] | None:
        """None means every unit (admins)."""
        return None if self.is_admin else self.unit_ids

    def can_see_unit(self, unit_id: int) -> bool:
        return self.is_admin or unit_id in self.unit_ids

    def require_unit(self, unit_id: int) -> None:
        if not self.can_see_unit(unit_id):
            raise Forbidden("this unit is outside your scope")

    def require_write(self, unit_id: int | None = None) -> None:
        if self.role not in WRITE_ROLES:
            raise Forbidden(f"role {self.role.value} may not change master data")
        if unit_id is not None:
            self.require_unit(unit_id)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only an admin may do this")
