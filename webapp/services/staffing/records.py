"""Staffing records: projects, their skill requirements and assignments (profiles: profiles.py).

Managers change the projects of the teams they manage; admins change every project. Every change
is audited.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from webapp.db import Session
from webapp.models import (
    Project,
    ProjectAssignment,
    ProjectRequirement,
    ProjectStatus,
    Skill,
    Team,
    TeamMembership,
    User,
)
from webapp.models.staffing import OPEN_PROJECT_STATUSES
from webapp.services import audit
from webapp.services.access import policy
from webapp.services.errors import Conflict, InvalidInput, NotFound

OPEN_STATUSES = OPEN_PROJECT_STATUSES


@dataclass(frozen=True)
class ProjectRow:
    id: int
    name: str
    team_id: int
    team_name: str
    start_date: date
    status: str
    requirements: int
    slots: int
    assigned: int


def get_project(session: Session, project_id: int, actor: User) -> Project:
    """The project, if the actor may see it. Raises NotFound or PermissionDenied."""
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"There is no project {project_id}; pick one from the projects list.")
    policy.require_team_view(session, actor, project.team_id)
    return project


def list_projects(
    session: Session, team_ids: Collection[int] | None, *, include_closed: bool = False
) -> list[ProjectRow]:
    """Projects of the teams (all when ``None``) with requirement and assignment counts."""
    reqs = (
        select(
            ProjectRequirement.project_id,
            func.count().label("n"),
            func.sum(ProjectRequirement.headcount).label("slots"),
        )
        .group_by(ProjectRequirement.project_id)
        .subquery()
    )
    assigned = (
        select(ProjectAssignment.project_id, func.count().label("n"))
        .group_by(ProjectAssignment.project_id)
        .subquery()
    )
    query = (
        select(Project.id, Project.name, Team.id, Team.name, Project.start_date, Project.status)
        .add_columns(reqs.c.n, reqs.c.slots, assigned.c.n)
        .join(Team, Team.id == Project.team_id)
        .outerjoin(reqs, reqs.c.project_id == Project.id)
        .outerjoin(assigned, assigned.c.project_id == Project.id)
        .order_by(Project.start_date, Project.name)
    )
    if team_ids is not None:
        query = query.where(Project.team_id.in_(list(team_ids)))
    if not include_closed:
        query = query.where(Project.status.in_(OPEN_STATUSES))
    return [
        ProjectRow(pid, name, tid, team, start, status, int(n or 0), int(s or 0), int(a or 0))
        for pid, name, tid, team, start, status, n, s, a in session.execute(query)
    ]


def parse_status(value: str) -> str:
    try:
        return ProjectStatus(value.strip().lower()).value
    except ValueError:
        known = ", ".join(s.value for s in ProjectStatus)
        raise InvalidInput(f"Unknown status '{value}'; use one of {known}.") from None


def _check_name(session: Session, name: str, project_id: int | None = None) -> str:
    name = name.strip()
    if not name or len(name) > 160:
        raise InvalidInput("Give the project a name of at most 160 characters.")
    other = session.scalar(select(Project.id).where(Project.name == name))
    if other is not None and other != project_id:
        raise Conflict(f"A project called '{name}' exists already; choose another name.")
    return name


def create_project(
    session: Session,
    *,
    actor: User,
    name: str,
    team_id: int,
    start_date: date,
    description: str = "",
    status: str = ProjectStatus.PLANNED.value,
) -> Project:
    """Create a project of a team the actor manages. Raises InvalidInput, Conflict, NotFound."""
    if session.get(Team, team_id) is None:
        raise NotFound("That team does not exist; pick one from the list.")
    policy.require_team_view(session, actor, team_id)
    project = Project(
        name=_check_name(session, name),
        team_id=team_id,
        start_date=start_date,
        description=description.strip(),
        status=parse_status(status),
    )
    session.add(project)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="project.create",
        target_type="project",
        target_id=project.id,
        name=project.name,
    )
    return project


def update_project(
    session: Session,
    project_id: int,
    *,
    actor: User,
    name: str,
    start_date: date,
    description: str,
    status: str,
) -> Project:
    """Change a project's name, start, description or status (``archived`` archives it)."""
    project = get_project(session, project_id, actor)
    project.name = _check_name(session, name, project.id)
    project.start_date = start_date
    project.description = description.strip()
    project.status = parse_status(status)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="project.update",
        target_type="project",
        target_id=project.id,
        status=project.status,
    )
    return project


def archive_project(session: Session, project_id: int, *, actor: User) -> Project:
    """Archive a project: it leaves the gap reports and plans but keeps its history."""
    project = get_project(session, project_id, actor)
    project.status = ProjectStatus.ARCHIVED.value
    session.flush()
    audit.record(
        session, actor=actor, action="project.archive", target_type="project", target_id=project.id
    )
    return project


def check_range(label: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise InvalidInput(f"{label} must be between {low} and {high}; got {value}.")
    return value


def get_skill(session: Session, skill_id: int) -> Skill:
    skill = session.get(Skill, skill_id)
    if skill is None or skill.archived:
        raise NotFound("That skill does not exist or is archived; pick one from the list.")
    return skill


def set_requirement(
    session: Session,
    *,
    actor: User,
    project_id: int,
    skill_id: int,
    min_level: int,
    headcount: int = 1,
    importance: int = 3,
    allocation_pct: int = 100,
) -> ProjectRequirement:
    """Add a requirement to a project, or change the project's requirement for that skill."""
    project = get_project(session, project_id, actor)
    get_skill(session, skill_id)
    req = session.scalar(
        select(ProjectRequirement).where(
            ProjectRequirement.project_id == project.id, ProjectRequirement.skill_id == skill_id
        )
    )
    values = {
        "min_level": check_range("The minimum level", min_level, 1, 5),
        "headcount": check_range("The headcount", headcount, 1, 100),
        "importance": check_range("The importance", importance, 1, 5),
        "allocation_pct": check_range("The allocation", allocation_pct, 1, 100),
    }
    if req is None:
        req = ProjectRequirement(project_id=project.id, skill_id=skill_id)
        session.add(req)
    for key, value in values.items():
        setattr(req, key, value)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="requirement.set",
        target_type="project",
        target_id=project.id,
        skill_id=skill_id,
        min_level=min_level,
        headcount=headcount,
    )
    return req


def remove_requirement(session: Session, requirement_id: int, *, actor: User) -> int:
    """Delete a requirement (the audit log keeps its trace); returns its project's id."""
    req = session.get(ProjectRequirement, requirement_id)
    if req is None:
        raise NotFound("That requirement no longer exists.")
    get_project(session, req.project_id, actor)
    session.delete(req)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="requirement.remove",
        target_type="project",
        target_id=req.project_id,
        skill_id=req.skill_id,
    )
    return req.project_id


def assign(
    session: Session, *, actor: User, project_id: int, user_id: int, allocation_pct: int = 100
) -> ProjectAssignment:
    """Put an active user on a project (or change their allocation).

    A manager puts only people of the teams they manage on projects (admins anyone): their
    levels would otherwise show through the project's gap figures. Raises NotFound,
    PermissionDenied or InvalidInput.
    """
    project = get_project(session, project_id, actor)
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound("That person does not exist or is deactivated.")
    policy.require_staff(session, actor, user)
    row = session.scalar(
        select(ProjectAssignment).where(
            ProjectAssignment.project_id == project.id, ProjectAssignment.user_id == user_id
        )
    )
    check_range("The allocation", allocation_pct, 1, 100)
    if row is None:
        row = ProjectAssignment(project_id=project.id, user_id=user_id)
        session.add(row)
    row.allocation_pct = allocation_pct
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="assignment.set",
        target_type="project",
        target_id=project.id,
        user_id=user_id,
        allocation_pct=allocation_pct,
    )
    return row


def unassign(session: Session, assignment_id: int, *, actor: User) -> int:
    """Take a person off a project; returns the project's id."""
    row = session.get(ProjectAssignment, assignment_id)
    if row is None:
        raise NotFound("That assignment no longer exists.")
    get_project(session, row.project_id, actor)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="assignment.remove",
        target_type="project",
        target_id=row.project_id,
        user_id=row.user_id,
    )
    return row.project_id


def assignable_people(session: Session, team_ids: Collection[int] | None) -> list[tuple[int, str]]:
    """(id, name) of active users in the teams (everyone when ``None``), for pickers."""
    query = select(User.id, User.display_name).where(User.active.is_(True))
    if team_ids is not None:
        query = query.where(
            User.id.in_(
                select(TeamMembership.user_id).where(TeamMembership.team_id.in_(list(team_ids)))
            )
        )
    return [(uid, name) for uid, name in session.execute(query.order_by(User.display_name))]


def skill_choices(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Skill.id, Skill.name).where(Skill.archived.is_(False)).order_by(Skill.name)
    )
    return [(sid, name) for sid, name in rows]
