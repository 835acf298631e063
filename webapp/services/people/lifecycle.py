"""A user's life after creation: edits, role changes, deactivation, password resets, teams.

Admins change people; every change is audited. A role change, a deactivation and a password reset
end the person's sessions at once (a deactivation revokes their API tokens too; their history is
kept). The last active admin can never lose the role or be deactivated, whichever path tries
(these pages, the CLI or a roster import), so nobody is locked out of administration.

Reset links, and the invitations a roster import gives new people, are signed with the app's
secret (itsdangerous, each kind with its own salt), expire, and work once: they carry a digest of
the password hash they were made for, so they stop working when the password changes.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update

from webapp.db import Session
from webapp.models import ApiToken, Role, Team, TeamMembership, User
from webapp.services import audit
from webapp.services.errors import Conflict, InvalidInput, NotFound
from webapp.services.people import accounts, passwords, sessions
from webapp.services.people.passwords import INVITED
from webapp.services.rows import chunks

RESET_SALT = "skillforge-password-reset"
INVITATION_SALT = "skillforge-invitation"


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}; pick one from the people list.")
    return user


def active_admins(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN.value, User.active.is_(True))
        )
        or 0
    )


def guard_last_admin(session: Session, user: User, *, role: str, active: bool) -> None:
    """Refuse a change that would leave no active admin. Raises Conflict."""
    losing = (
        user.role == Role.ADMIN.value and user.active and (role != Role.ADMIN.value or not active)
    )
    if losing and active_admins(session) <= 1:
        raise Conflict(
            f"{user.display_name} is the last active admin: make someone else an admin first, "
            "or nobody could manage people, the catalog or grading."
        )


def update_user(
    session: Session,
    *,
    actor: User | None,
    user_id: int,
    display_name: str,
    email: str,
    role: str,
    now: datetime,
) -> User:
    """Change a user's name, email or role. A role change ends their sessions."""
    user = get_user(session, user_id)
    new_role = accounts.parse_role(role).value
    address = accounts.normalise_email(email)
    if not display_name.strip():
        raise InvalidInput("Give the user a display name.")
    other = accounts.find_by_email(session, address)
    if other is not None and other.id != user.id:
        raise Conflict(f"Another user already has the email {address}.")
    guard_last_admin(session, user, role=new_role, active=user.active)
    before = {"display_name": user.display_name, "email": user.email, "role": user.role}
    user.display_name, user.email = display_name.strip(), address
    changed_role = new_role != user.role
    user.role = new_role
    if changed_role:
        sessions.end_all(session, user.id, now=now, why="role")
    after = {"display_name": user.display_name, "email": user.email, "role": user.role}
    audit.record(
        session,
        actor=actor,
        action="user.update",
        target_type="user",
        target_id=user.id,
        changes={k: [before[k], after[k]] for k in before if before[k] != after[k]},
    )
    return user


def set_active(
    session: Session, *, actor: User | None, user_id: int, active: bool, now: datetime
) -> User:
    """Deactivate (ending sessions and revoking tokens; history kept) or reactivate a user."""
    user = get_user(session, user_id)
    if user.active == active:
        return user
    guard_last_admin(session, user, role=user.role, active=active)
    user.active = active
    ended = revoked = 0
    if not active:
        ended = sessions.end_all(session, user.id, now=now, why="deactivated")
        revoked = int(
            session.execute(
                update(ApiToken)
                .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=now)
            ).rowcount  # type: ignore[attr-defined]
        )
    audit.record(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        target_type="user",
        target_id=user.id,
        sessions_ended=ended,
        tokens_revoked=revoked,
    )
    return user


def sign_out_everywhere(
    session: Session, *, actor: User | None, user_id: int, now: datetime
) -> int:
    user = get_user(session, user_id)
    ended = sessions.end_all(session, user.id, now=now, why="everywhere")
    audit.record(
        session,
        actor=actor,
        action="user.sign_out_everywhere",
        target_type="user",
        target_id=user.id,
        sessions_ended=ended,
    )
    return ended


# --- password reset links ----------------------------------------------------------------------


def _fingerprint(user: User) -> str:
    return _digest(user.password_hash)


def _digest(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:20]


def reset_token(
    session: Session, *, actor: User | None, user_id: int, secret: str
) -> tuple[User, str]:
    """A signed, expiring, one-time token for the user's reset link (audited)."""
    user = get_user(session, user_id)
    if not user.active:
        raise Conflict(f"{user.display_name} is deactivated: reactivate them first.")
    token = URLSafeTimedSerializer(secret, salt=RESET_SALT).dumps(
        {"u": user.id, "p": _fingerprint(user)}
    )
    audit.record(
        session, actor=actor, action="user.reset_link", target_type="user", target_id=user.id
    )
    return user, token


def invitations(
    session: Session, user_ids: list[int], *, secret: str
) -> list[tuple[str, str, str]]:
    """(email, name, invitation token) of each account that still waits for its first password
    (others are left out: their invitation was used, or they never had one), in ``user_ids``'
    order."""
    signer = URLSafeTimedSerializer(secret, salt=INVITATION_SALT)
    found: dict[int, tuple[str, str, str]] = {}
    for chunk in chunks(user_ids):
        for user_id, email, name, password_hash in session.execute(
            select(User.id, User.email, User.display_name, User.password_hash).where(
                User.id.in_(chunk),
                User.active.is_(True),
                User.password_hash.startswith(INVITED),
            )
        ):
            token = signer.dumps({"u": user_id, "p": _digest(password_hash)})
            found[user_id] = (email, name, token)
    return [found[i] for i in user_ids if i in found]


def user_of_reset(
    session: Session, token: str, *, secret: str, max_age_s: int, invitation: bool = False
) -> User:
    """The user a reset (or invitation) token is for, if it is genuine, unexpired and unused.
    Raises InvalidInput saying what to do."""
    link = "invitation" if invitation else "reset link"
    salt = INVITATION_SALT if invitation else RESET_SALT
    try:
        data = URLSafeTimedSerializer(secret, salt=salt).loads(token, max_age=max_age_s)
    except SignatureExpired:
        raise InvalidInput(f"This {link} has expired: ask an admin for a new one.") from None
    except BadSignature:
        raise InvalidInput(
            f"This {link} is not valid: copy the whole link, or ask an admin for a new one."
        ) from None
    user = session.get(User, int(data.get("u", 0))) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("p") != _fingerprint(user):
        raise InvalidInput(
            f"This {link} was already used: log in, or ask an admin for a reset link."
        )
    return user


def reset_password(
    session: Session,
    *,
    token: str,
    new: str,
    secret: str,
    max_age_s: int,
    now: datetime,
    invitation: bool = False,
) -> User:
    """Set a new password through a reset link (or an invitation); ends every session."""
    user = user_of_reset(session, token, secret=secret, max_age_s=max_age_s, invitation=invitation)
    passwords.check_policy(new, personal=(user.email, user.display_name))
    user.password_hash = passwords.hash_password(new)
    sessions.end_all(session, user.id, now=now, why="reset")
    action = "user.invitation_used" if invitation else "user.password_reset"
    audit.record(session, actor=user, action=action, target_type="user", target_id=user.id)
    return user


# --- teams -------------------------------------------------------------------------------------


def add_to_team(
    session: Session, *, actor: User | None, user_id: int, team_name: str, as_manager: bool
) -> TeamMembership:
    """Put the user in a team (created if new), as a manager of it or a member."""
    user = get_user(session, user_id)
    if not team_name.strip():
        raise InvalidInput("Give the team's name.")
    if as_manager and user.role == Role.ENGINEER.value:
        raise InvalidInput(
            f"{user.display_name} is an engineer: change their role to manager first to make "
            "them a team's manager."
        )
    team = accounts.get_or_create_team(session, team_name.strip()[:120])
    membership = accounts.join_team(session, user=user, team=team, as_manager=as_manager)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="team.join",
        target_type="team",
        target_id=team.id,
        user_id=user.id,
        as_manager=as_manager,
    )
    return membership


def remove_from_team(session: Session, *, actor: User, membership_id: int) -> tuple[User, Team]:
    membership = session.get(TeamMembership, membership_id)
    if membership is None:
        raise NotFound("That membership no longer exists; reload the page.")
    user, team = membership.user, membership.team
    session.delete(membership)
    audit.record(
        session,
        actor=actor,
        action="team.leave",
        target_type="team",
        target_id=team.id,
        user_id=user.id,
    )
    return user, team
