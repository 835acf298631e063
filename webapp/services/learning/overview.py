"""Read models for the home pages: an engineer's progress, a manager's teams, the organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, union_all

from webapp.db import Session
from webapp.models import (
    Draft,
    ExerciseProgress,
    Notebook,
    Project,
    Role,
    SkillEvidence,
    Submission,
    Team,
    TeamMembership,
    User,
    Workshop,
    WorkshopProgress,
)
from webapp.services.learning.exercises import exercise_states
from webapp.services.rows import labelled, rows_into


@dataclass(frozen=True)
class ProgressRow:
    workshop_slug: str
    workshop_title: str
    attempts: int
    best_score: float
    passed_at: datetime | None


@dataclass(frozen=True)
class TeamRow:
    id: int
    name: str
    engineers: int
    managers: int
    projects: int


def engineer_progress(session: Session, user_id: int) -> list[ProgressRow]:
    rows = session.execute(
        select(
            *labelled(
                ProgressRow,
                workshop_slug=Workshop.slug,
                workshop_title=Workshop.title,
                attempts=WorkshopProgress.attempts,
                best_score=WorkshopProgress.best_score,
                passed_at=WorkshopProgress.passed_at,
            )
        )
        .join(Workshop, Workshop.id == WorkshopProgress.workshop_id)
        .where(WorkshopProgress.user_id == user_id)
        .order_by(WorkshopProgress.updated_at.desc())
    )
    return rows_into(ProgressRow, rows)


@dataclass(frozen=True)
class NextExercise:
    """Where to continue: an unfinished exercise of the notebook the engineer worked on last."""

    workshop_slug: str
    workshop_title: str
    notebook_id: int
    notebook_title: str
    title: str
    anchor: str  # the exercise's element id on the notebook page
    state: str


def next_exercise(session: Session, user_id: int, *, notebooks: int = 5) -> NextExercise | None:
    """The first unfinished exercise (not yet passed in a graded submission) of the most
    recently worked-on notebook that has one, among the last ``notebooks`` worked on (drafts,
    attempts, checks and hints all count as work); None when they are all finished."""
    activity = union_all(
        select(Draft.notebook_id, Draft.updated_at.label("at")).where(Draft.user_id == user_id),
        select(Submission.notebook_id, Submission.submitted_at.label("at")).where(
            Submission.user_id == user_id
        ),
        select(ExerciseProgress.notebook_id, ExerciseProgress.updated_at.label("at")).where(
            ExerciseProgress.user_id == user_id
        ),
    ).subquery()
    recent = session.execute(
        select(Workshop.slug, Workshop.title, Notebook.id, Notebook.title)
        .select_from(activity)
        .join(Notebook, Notebook.id == activity.c.notebook_id)
        .join(Workshop, Workshop.id == Notebook.workshop_id)
        .where(Notebook.archived.is_(False), Workshop.archived.is_(False))
        .group_by(Workshop.slug, Workshop.title, Notebook.id, Notebook.title)
        .order_by(func.max(activity.c.at).desc(), Notebook.id)
        .limit(notebooks)
    )
    for slug, workshop_title, notebook_id, notebook_title in recent:
        for state in exercise_states(session, user_id=user_id, notebook_id=notebook_id):
            if not state.finished:
                return NextExercise(
                    slug,
                    workshop_title,
                    notebook_id,
                    notebook_title,
                    state.title,
                    state.anchor,
                    state.state,
                )
    return None


def evidence_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(SkillEvidence).where(SkillEvidence.user_id == user_id)
        )
        or 0
    )


def team_rows(session: Session, team_ids: set[int] | None) -> list[TeamRow]:
    """Teams with head counts; ``None`` means every team (for admins)."""
    members = (
        select(
            TeamMembership.team_id,
            func.sum(case((TeamMembership.is_manager.is_(True), 0), else_=1)).label("eng"),
            func.count().label("all"),
        )
        .group_by(TeamMembership.team_id)
        .subquery()
    )
    projects = select(Project.team_id, func.count().label("n")).group_by(Project.team_id).subquery()
    query = (
        select(Team.id, Team.name, members.c.eng, members.c.all, projects.c.n)
        .outerjoin(members, members.c.team_id == Team.id)
        .outerjoin(projects, projects.c.team_id == Team.id)
        .order_by(Team.name)
    )
    if team_ids is not None:
        query = query.where(Team.id.in_(team_ids))
    return [
        TeamRow(tid, name, int(eng or 0), int(total or 0) - int(eng or 0), int(n or 0))
        for tid, name, eng, total, n in session.execute(query)
    ]


def organisation_counts(session: Session) -> dict[str, int]:
    by_role = dict(session.execute(select(User.role, func.count()).group_by(User.role)).all())
    return {
        "engineers": by_role.get(Role.ENGINEER.value, 0),
        "managers": by_role.get(Role.MANAGER.value, 0),
        "admins": by_role.get(Role.ADMIN.value, 0),
        "teams": session.scalar(select(func.count()).select_from(Team)) or 0,
        "projects": session.scalar(select(func.count()).select_from(Project)) or 0,
        "workshops": session.scalar(
            select(func.count()).select_from(Workshop).where(Workshop.archived.is_(False))
        )
        or 0,
    }
