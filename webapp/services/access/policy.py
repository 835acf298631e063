"""THE access policy: who may see or do what. Every service, blueprint and the API asks here.

Engineers see their own data. Managers also see the teams they manage, the people in them, those
teams' projects, and the answers their engineers wait to have reviewed. Admins see and do
everything. ``can_*`` predicates only answer; ``require_*`` raise PermissionDenied (403 on the web,
with the message saying what to do), so a rule is written once whichever layer enforces it.
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.db import Session
from webapp.models import Role, TeamMembership, User
from webapp.services.errors import PermissionDenied

# --- roles --------------------------------------------------------------------------------------


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN.value


def is_manager(user: User) -> bool:
    """A manager by role (admins are not managers, though they may do what managers do)."""
    return user.role == Role.MANAGER.value


def is_manager_or_admin(user: User) -> bool:
    return user.role in (Role.MANAGER.value, Role.ADMIN.value)


def require_admin(user: User) -> None:
    if not is_admin(user):
        raise PermissionDenied("Only admins can open this page. Ask an admin if you need it.")


def require_manager(user: User, what: str = "open this page") -> None:
    """Raise PermissionDenied unless ``user`` is a manager or an admin."""
    if not is_manager_or_admin(user):
        raise PermissionDenied(f"Only managers and admins can {what}. Ask your manager if needed.")


# --- scopes -------------------------------------------------------------------------------------


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


def team_scope(session: Session, actor: User) -> set[int] | None:
    """The teams whose data ``actor`` may see and whose projects they may change.

    None means every team (admins); a manager gets the teams they manage; an engineer none.
    """
    if is_admin(actor):
        return None
    if not is_manager(actor):
        return set()
    return managed_team_ids(session, actor)


def reviewable_engineer_ids(session: Session, actor: User) -> set[int] | None:
    """Whose answers ``actor`` may review: None means everyone (admins); a manager the engineers
    (not fellow managers) of the teams they manage, never themself; an engineer nobody."""
    teams = team_scope(session, actor)
    if teams is None:
        return None
    if not teams:
        return set()
    rows = session.scalars(
        select(TeamMembership.user_id).where(
            TeamMembership.team_id.in_(teams), TeamMembership.is_manager.is_(False)
        )
    )
    return set(rows) - {actor.id}


# --- objects ------------------------------------------------------------------------------------


def can_view_team(session: Session, actor: User, team_id: int) -> bool:
    """Admins see every team; a manager sees the teams they manage."""
    scope = team_scope(session, actor)
    return scope is None or team_id in scope


def can_view_engineer(session: Session, actor: User, engineer_id: int) -> bool:
    """Anyone sees themself; admins see everyone; managers see the people of teams they manage."""
    if actor.id == engineer_id or is_admin(actor):
        return True
    return is_manager(actor) and bool(
        managed_team_ids(session, actor) & team_ids_of(session, engineer_id)
    )


def can_assess(session: Session, actor: User, engineer_id: int) -> bool:
    """Whether ``actor`` may record a manager's assessment of the engineer (never of themself)."""
    return (
        actor.id != engineer_id
        and is_manager_or_admin(actor)
        and can_view_engineer(session, actor, engineer_id)
    )


def can_review(session: Session, actor: User, engineer_id: int) -> bool:
    """Whether ``actor`` may grade the engineer's manually graded answers."""
    allowed = reviewable_engineer_ids(session, actor)
    return allowed is None or engineer_id in allowed


def can_view_submission(actor: User, owner_id: int) -> bool:
    """A submission (its code, feedback and hidden-test results) is its author's, and admins'."""
    return actor.id == owner_id or is_admin(actor)


def can_manage_token(actor: User, owner_id: int) -> bool:
    """An API token is its owner's to revoke, and any admin's."""
    return actor.id == owner_id or is_admin(actor)


# --- enforcing ----------------------------------------------------------------------------------


def require_team_view(session: Session, actor: User, team_id: int) -> None:
    if not can_view_team(session, actor, team_id):
        raise PermissionDenied(
            "Only the team's managers and admins can see or change this. "
            "Pick one of your teams, or ask an admin."
        )


def require_engineer_view(session: Session, actor: User, engineer_id: int) -> None:
    if not can_view_engineer(session, actor, engineer_id):
        raise PermissionDenied(
            "Only this engineer, their managers and admins can see this. "
            "Pick someone from one of your teams."
        )


def require_assess(session: Session, actor: User, engineer_id: int) -> None:
    if not can_assess(session, actor, engineer_id):
        raise PermissionDenied("Only this engineer's manager (or an admin) may assess them.")


def require_review(session: Session, actor: User, engineer_id: int) -> None:
    if not can_review(session, actor, engineer_id):
        raise PermissionDenied("Only the engineer's manager or an admin can grade this answer.")


def require_submission_view(actor: User, owner_id: int) -> None:
    if not can_view_submission(actor, owner_id):
        raise PermissionDenied("That submission belongs to someone else.")
