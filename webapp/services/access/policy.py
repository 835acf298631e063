"""Authorisation rules as pure predicates, plus the loaders that feed them.

Engineers see their own data; managers also see the skill data and reports of the teams they
manage; admins see everything. Views call ``require_*`` helpers in the web layer, which abort;
these predicates only answer.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Role, TeamMembership, User


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN.value


def is_manager_or_admin(user: User) -> bool:
    return user.role in (Role.MANAGER.value, Role.ADMIN.value)


def can_view_team(user: User, team_id: int, managed_team_ids: Collection[int]) -> bool:
    """Admins see every team; a manager sees the teams they manage."""
    return is_admin(user) or (user.role == Role.MANAGER.value and team_id in managed_team_ids)


def can_view_engineer(
    viewer: User,
    engineer_id: int,
    managed_team_ids: Collection[int],
    engineer_team_ids: Collection[int],
) -> bool:
    """Anyone sees themself; admins see everyone; managers see members of teams they manage."""
    if viewer.id == engineer_id or is_admin(viewer):
        return True
    return viewer.role == Role.MANAGER.value and bool(
        set(managed_team_ids) & set(engineer_team_ids)
    )


def managed_team_ids(session: Session, user: User) -> set[int]:
    """Ids of the teams ``user`` manages (empty for engineers)."""
    rows = session.scalars(
        select(TeamMembership.team_id).where(
            TeamMembership.user_id == user.id, TeamMembership.is_manager.is_(True)
        )
    )
    return set(rows)


def team_ids_of(session: Session, user_id: int) -> set[int]:
    """Ids of the teams a user belongs to, as member or manager."""
    return set(
        session.scalars(select(TeamMembership.team_id).where(TeamMembership.user_id == user_id))
    )
