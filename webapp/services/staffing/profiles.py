"""Role profiles: organisation-wide target levels per skill, which any manager or admin may edit.

Every change is audited.
"""

from __future__ import annotations

from sqlalchemy import select

from webapp.db import Session
from webapp.models import RoleProfile, RoleProfileSkill, User
from webapp.services import audit
from webapp.services.access import policy
from webapp.services.errors import Conflict, InvalidInput, NotFound
from webapp.services.staffing import records


def list_profiles(session: Session, *, include_archived: bool = False) -> list[RoleProfile]:
    query = select(RoleProfile).order_by(RoleProfile.name)
    if not include_archived:
        query = query.where(RoleProfile.archived.is_(False))
    return list(session.scalars(query))


def get_profile(session: Session, profile_id: int) -> RoleProfile:
    profile = session.get(RoleProfile, profile_id)
    if profile is None:
        raise NotFound(f"There is no role profile {profile_id}.")
    return profile


def save_profile(
    session: Session,
    *,
    actor: User,
    name: str,
    description: str = "",
    profile_id: int | None = None,
) -> RoleProfile:
    """Create a role profile, or rename an existing one. Raises Conflict on a taken name."""
    policy.require_manager(actor, "edit role profiles")
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("Give the role profile a name of at most 120 characters.")
    other = session.scalar(select(RoleProfile.id).where(RoleProfile.name == name))
    if other is not None and other != profile_id:
        raise Conflict(f"A role profile called '{name}' exists already.")
    profile = get_profile(session, profile_id) if profile_id else RoleProfile(name=name)
    profile.name, profile.description = name, description.strip()
    session.add(profile)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="profile.save",
        target_type="role_profile",
        target_id=profile.id,
        name=name,
    )
    return profile


def set_profile_target(
    session: Session, *, actor: User, profile_id: int, skill_id: int, level: int | None
) -> None:
    """Set a profile's target level for a skill; ``None`` removes the skill from the profile."""
    policy.require_manager(actor, "edit role profiles")
    profile = get_profile(session, profile_id)
    records.get_skill(session, skill_id)
    row = session.get(RoleProfileSkill, (profile.id, skill_id))
    if level is None:
        if row is not None:
            session.delete(row)
    else:
        records.check_range("The target level", level, 1, 5)
        if row is None:
            row = RoleProfileSkill(profile_id=profile.id, skill_id=skill_id, level=level)
            session.add(row)
        row.level = level
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="profile.target",
        target_type="role_profile",
        target_id=profile.id,
        skill_id=skill_id,
        level=level,
    )


def archive_profile(
    session: Session, profile_id: int, *, actor: User, archived: bool = True
) -> None:
    """Archive (or restore) a role profile; archived profiles are hidden from pickers."""
    policy.require_manager(actor, "edit role profiles")
    profile = get_profile(session, profile_id)
    profile.archived = archived
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="profile.archive",
        target_type="role_profile",
        target_id=profile.id,
        archived=archived,
    )
