"""THE access policy: who may see or do what. Every service, blueprint and the API asks here.

Engineers see their own data. Managers also see the teams they manage, the people in them, those
teams' projects, and the answers their engineers wait to have reviewed; they put only those people
on projects, and gap figures count only them. Admins see and do everything. ``can_*`` predicates
only answer; ``require_*`` raise PermissionDenied (403 on the web, with the message saying what to
do), so a rule is written once whichever layer enforces it.
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


def _members(session: Session, team_ids: set[int]) -> set[int]:
    """Ids of everyone in the teams, engineers and managers."""
    if not team_ids:
        return set()
    rows = session.scalars(
        select(TeamMembership.user_id).where(TeamMembership.team_id.in_(team_ids))
    )
    return set(rows)


def staffable_ids(session: Session, actor: User) -> set[int] | None:
    """Whom ``actor`` may put on projects: None means anyone (admins); a manager the people of
    the teams they manage, exactly those whose levels they see; an engineer nobody."""
    teams = team_scope(session, actor)
    return None if teams is None else _members(session, teams)


def people_scope(session: Session, actor: User) -> set[int] | None:
    """Whose skill levels ``actor`` may see, on any page, report, export or API answer: None
    means everyone (admins); a manager the people of the teams they manage; everyone themself.

    Gap figures count only these people, so no figure reveals the level of anyone else.
    """
    staffable = staffable_ids(session, actor)
    return None if staffable is None else staffable | {actor.id}


# --- objects ------------------------------------------------------------------------------------


def can_view_team(session: Session, actor: User, team_id: int) -> bool:
    """Admins see every team; a manager sees the teams they manage."""
    scope = team_scope(session, actor)
    return scope is None or team_id in scope


def can_view_engineer(session: Session, actor: User, engineer_id: int) -> bool:
    """Anyone sees themself; admins see everyone; managers see the people of teams they manage."""
    scope = people_scope(session, actor)
    return scope is None or engineer_id in scope


def can_staff(session: Session, actor: User, person_id: int) -> bool:
    """Whether ``actor`` may put the person on a project (see ``staffable_ids``)."""
    allowed = staffable_ids(session, actor)
    return allowed is None or person_id in allowed


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


def can_view_scores(actor: User, owner_id: int) -> bool:
    """Workshop scores and attempts are graded work, like a submission: their owner's and
    admins'. Everyone else who may see the engineer gets levels and passes only."""
    return can_view_submission(actor, owner_id)


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


def check_staffable(allowed: set[int] | None, person_id: int, name: str) -> None:
    """Raise PermissionDenied unless the person is among ``allowed`` (``staffable_ids``); for
    checking many people against one scope, as an import does."""
    if allowed is not None and person_id not in allowed:
        raise PermissionDenied(
            f"{name} is not in a team you manage: you can put only the people of your own teams "
            "on projects. Ask their manager or an admin to assign them."
        )


def require_staff(session: Session, actor: User, person: User) -> None:
    check_staffable(staffable_ids(session, actor), person.id, person.display_name)


def require_assess(session: Session, actor: User, engineer_id: int) -> None:
    if not can_assess(session, actor, engineer_id):
        raise PermissionDenied("Only this engineer's manager (or an admin) may assess them.")


def require_review(session: Session, actor: User, engineer_id: int) -> None:
    if not can_review(session, actor, engineer_id):
        raise PermissionDenied("Only the engineer's manager or an admin can grade this answer.")


def require_submission_view(actor: User, owner_id: int) -> None:
    if not can_view_submission(actor, owner_id):
        raise PermissionDenied("That submission belongs to someone else.")
