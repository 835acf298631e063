"""Accounts: creating users, logging in, changing passwords, and team membership."""

from __future__ import annotations

from datetime import UTC, datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from webapp.db import Session
from webapp.models import Role, Team, TeamMembership, User
from webapp.services import audit
from webapp.services.errors import Conflict, InvalidInput
from webapp.services.people import passwords
from webapp.services.tabular import fold


def normalise_email(email: str) -> str:
    """The stored form of an email: syntax-checked and lower-cased, so lookups ignore case."""
    try:
        checked = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"'{email.strip()}' is not a valid email address: {exc}") from exc
    return checked.normalized.lower()


def parse_role(role: str) -> Role:
    try:
        return Role(role.strip().lower())
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise InvalidInput(f"Unknown role '{role}'; use one of {known}.") from None


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def get_or_create_team(session: Session, name: str) -> Team:
    """The team of that name whatever its case and spacing (``applied  ml`` is ``Applied ML``),
    or a new team with the name as written."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("A team needs a name.")
    for team_id, existing in session.execute(select(Team.id, Team.name)):
        if fold(existing) == fold(name):
            team = session.get(Team, team_id)
            if team is not None:
                return team
    team = Team(name=name)
    session.add(team)
    session.flush()
    return team


def join_team(session: Session, *, user: User, team: Team, as_manager: bool) -> TeamMembership:
    """Put ``user`` in ``team`` (idempotent); managers of a team are members marked as such."""
    membership = session.scalar(
        select(TeamMembership).where(
            TeamMembership.team_id == team.id, TeamMembership.user_id == user.id
        )
    )
    if membership is None:
        membership = TeamMembership(team=team, user=user, is_manager=as_manager)
        session.add(membership)
    else:
        membership.is_manager = as_manager
    return membership


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    role: str | Role,
    actor: User | None,
    team: str | None = None,
) -> User:
    """Create an active user; raises InvalidInput for bad values and Conflict for a taken email."""
    address = normalise_email(email)
    role = parse_role(str(role))
    if not display_name.strip():
        raise InvalidInput("Give the user a display name.")
    passwords.check_policy(password, personal=(address, display_name))
    if find_by_email(session, address) is not None:
        raise Conflict(f"A user with the email {address} already exists.")
    user = User(
        email=address,
        display_name=display_name.strip(),
        password_hash=passwords.hash_password(password),
        role=role.value,
        active=True,
    )
    session.add(user)
    session.flush()
    if team:
        join_team(
            session,
            user=user,
            team=get_or_create_team(session, team),
            as_manager=role == Role.MANAGER,
        )
    audit.record(
        session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=user.id,
        email=address,
        role=role.value,
        team=team,
    )
    return user


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; never says which part was wrong."""
    user = find_by_email(session, email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = datetime.now(UTC)
    return user


def change_password(session: Session, *, user: User, current: str, new: str) -> None:
    """Replace the user's password after checking the current one; raises InvalidInput."""
    if not passwords.verify_password(user.password_hash, current):
        raise InvalidInput("Your current password is not correct.")
    if current == new:
        raise InvalidInput("Choose a new password that differs from the current one.")
    passwords.check_policy(new, personal=(user.email, user.display_name))
    user.password_hash = passwords.hash_password(new)
    audit.record(session, actor=user, action="user.password", target_type="user", target_id=user.id)
