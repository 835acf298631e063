"""From plan to action: accepting plan lines into training and project assignments, and how
each assigned workshop is going (on track, late, done, verified).

Accepting a line puts its engineer on the project (at the requirement's share of time) and
assigns each workshop of the line, due when the plan has it finished, with the requirement it
serves. All lines are checked first; one bad line refuses the whole accept, so nothing is
half-stored. Every change is audited. A later plan starts from what is accepted: accepted
workshops count as taken (``plan.accepted_training``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import aliased

from webapp.db import Session
from webapp.models import (
    ProficiencyLevel,
    Project,
    ProjectAssignment,
    ProjectRequirement,
    Skill,
    TrainingAssignment,
    User,
    Workshop,
    WorkshopProgress,
)
from webapp.models.staffing import OPEN_PROJECT_STATUSES
from webapp.services import audit
from webapp.services.access import policy
from webapp.services.errors import Conflict, InvalidInput, NotFound
from webapp.services.planning import runs
from webapp.services.planning.explain import PlanLine, day
from webapp.services.planning.optimiser import PlannedTraining
from webapp.services.planning.plan import PlanReport
from webapp.services.skills import levels as evidence
from webapp.services.words import count

# --- accepting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    lines: int
    training: int  # new training assignments
    projects: int  # new project assignments
    already: int  # lines that were accepted before

    @property
    def message(self) -> str:
        done = (
            f"Accepted {count(self.lines, 'line')}: {count(self.training, 'training assignment')} "
            f"and {count(self.projects, 'project assignment')} made."
        )
        if self.already:
            done += f" {count(self.already, 'line was', 'lines were')} accepted before."
        return done


def accepted_keys(session: Session, report: PlanReport) -> set[str]:
    """Keys of the report's lines already accepted: the engineer is on the project and holds a
    training assignment for every workshop of the line."""
    users = {line.engineer_id for line in report.lines}
    on = set(
        session.execute(
            select(ProjectAssignment.user_id, ProjectRequirement.id)
            .join(ProjectRequirement, ProjectRequirement.project_id == ProjectAssignment.project_id)
            .where(ProjectAssignment.user_id.in_(users))
        ).all()
    )
    assigned: dict[tuple[int, int | None], set[int]] = {}
    for uid, rid, wid in session.execute(
        select(
            TrainingAssignment.user_id,
            TrainingAssignment.requirement_id,
            TrainingAssignment.workshop_id,
        ).where(TrainingAssignment.user_id.in_(users))
    ):
        assigned.setdefault((uid, rid), set()).add(wid)
    keys = set()
    for line in report.lines:
        pair = (line.engineer_id, line.requirement_id)
        wanted = {t.workshop_id for t in _training_of(report, line)}
        if pair in on and wanted <= assigned.get(pair, set()):
            keys.add(line.key)
    return keys


def _training_of(report: PlanReport, line: PlanLine) -> list[PlannedTraining]:
    return sorted(
        (
            t
            for t in report.plan.training
            if t.engineer_id == line.engineer_id and line.requirement_id in t.for_requirements
        ),
        key=lambda t: t.order,
    )


def accept(
    session: Session,
    *,
    actor: User,
    team_id: int,
    run_id: int,
    keys: Collection[str] | None,
) -> Accepted:
    """Accept the plan's lines named by ``keys`` (every line when None). Raises NotFound,
    Conflict (not the team's newest plan), InvalidInput (a line that no longer fits) or
    PermissionDenied."""
    policy.require_team_view(session, actor, team_id)
    run = runs.get_run(session, run_id, team_id)
    newest = runs.latest(session, team_id)
    if newest is None or newest.id != run.id:
        raise Conflict(
            "A newer plan replaced this one: accept lines from the newest plan on the plan page."
        )
    report = runs.report_of(run)
    lines = _chosen(report, keys)
    _check(session, actor, team_id, lines)
    before = accepted_keys(session, report)
    made_training = made_projects = 0
    for line in lines:
        if line.key in before:
            continue
        t_new, p_new = _accept_line(session, actor, run, report, line)
        made_training += t_new
        made_projects += p_new
    already = sum(1 for line in lines if line.key in before)
    return Accepted(len(lines) - already, made_training, made_projects, already)


def _chosen(report: PlanReport, keys: Collection[str] | None) -> list[PlanLine]:
    if keys is None:
        if not report.lines:
            raise InvalidInput("This plan has no line to accept.")
        return list(report.lines)
    by_key = {line.key: line for line in report.lines}
    unknown = [k for k in keys if k not in by_key]
    if unknown:
        raise InvalidInput(
            "This plan has no such line; reload the plan page and tick the lines again."
        )
    if not keys:
        raise InvalidInput("Tick at least one line to accept, or press “Accept the whole plan”.")
    return [by_key[k] for k in dict.fromkeys(keys)]


def _check(session: Session, actor: User, team_id: int, lines: Sequence[PlanLine]) -> None:
    """Every line must still fit: an active engineer the actor may staff, an open project of
    the team with the requirement still there."""
    allowed = policy.staffable_ids(session, actor)
    problems = []
    for line in lines:
        req = session.get(ProjectRequirement, line.requirement_id)
        user = session.get(User, line.engineer_id)
        if req is None or req.project.status not in OPEN_PROJECT_STATUSES:
            problems.append(f"{line.project} no longer needs {line.skill} (or is closed)")
        elif req.project.team_id != team_id:
            problems.append(f"{line.project} is no longer this team's project")
        elif user is None or not user.active:
            problems.append(f"{line.engineer} is no longer active")
        elif allowed is not None and user.id not in allowed:
            problems.append(f"{line.engineer} is no longer in a team you manage")
    if problems:
        raise InvalidInput(
            "Nothing was accepted: "
            + "; ".join(problems)
            + ". Compute the plan again and accept from the new one."
        )


def _accept_line(
    session: Session, actor: User, run: runs.PlanRun, report: PlanReport, line: PlanLine
) -> tuple[int, int]:
    req = session.get(ProjectRequirement, line.requirement_id)
    assert req is not None  # checked
    new_project = 0
    on_project = session.scalar(
        select(ProjectAssignment).where(
            ProjectAssignment.project_id == req.project_id,
            ProjectAssignment.user_id == line.engineer_id,
        )
    )
    if on_project is None:
        session.add(
            ProjectAssignment(
                project_id=req.project_id,
                user_id=line.engineer_id,
                allocation_pct=req.allocation_pct,
            )
        )
        new_project = 1
    new_training = 0
    workshops = []
    for position, step in enumerate(_training_of(report, line), start=1):
        exists = session.scalar(
            select(TrainingAssignment.id).where(
                TrainingAssignment.user_id == line.engineer_id,
                TrainingAssignment.workshop_id == step.workshop_id,
                TrainingAssignment.requirement_id == req.id,
            )
        )
        workshops.append(step.workshop_id)
        if exists is not None:
            continue
        session.add(
            TrainingAssignment(
                user_id=line.engineer_id,
                workshop_id=step.workshop_id,
                project_id=req.project_id,
                requirement_id=req.id,
                plan_run_id=run.id,
                skill_id=req.skill_id,
                level=req.min_level,
                position=position,
                due_date=step.finish_by,
                assigned_by_id=actor.id,
            )
        )
        new_training += 1
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="plan.accept_line",
        target_type="plan_run",
        target_id=run.id,
        user_id=line.engineer_id,
        requirement_id=req.id,
        project_id=req.project_id,
        workshop_ids=workshops,
        project_assignment_made=bool(new_project),
    )
    return new_training, new_project


def withdraw(session: Session, *, actor: User, assignment_id: int) -> tuple[str, int]:
    """Take back one training assignment (the project assignment stays); gives a sentence
    saying what was withdrawn and the team whose project it served."""
    row = session.get(TrainingAssignment, assignment_id)
    if row is None:
        raise NotFound("That training assignment no longer exists; reload the page.")
    policy.require_team_view(session, actor, row.project.team_id)
    policy.require_staff(session, actor, row.user)
    said, team_id = (
        f"Withdrew {row.workshop.title} from {row.user.display_name}.",
        row.project.team_id,
    )
    session.delete(row)
    audit.record(
        session,
        actor=actor,
        action="training.withdraw",
        target_type="training_assignment",
        target_id=assignment_id,
        user_id=row.user_id,
        workshop_id=row.workshop_id,
        project_id=row.project_id,
    )
    return said, team_id


# --- tracking ----------------------------------------------------------------------------------

VERIFIED, DONE, LATE, ON_TRACK = "verified", "done", "late", "on track"
STATUSES = (ON_TRACK, LATE, DONE, VERIFIED)


@dataclass(frozen=True)
class TrainingRow:
    id: int
    engineer_id: int
    engineer: str
    workshop_id: int
    workshop_slug: str
    workshop: str
    hours: float
    project: str
    skill: str
    level: int
    level_name: str
    assigned_on: date
    due: date
    passed_on: date | None
    status: str
    assigned_by: str
    plan_run_id: int | None

    @property
    def why(self) -> str:
        return f"for {self.project}: {self.level_name} in {self.skill}, by {day(self.due)}"

    @property
    def status_text(self) -> str:
        if self.status == VERIFIED:
            return f"Verified: {self.level_name} in {self.skill}"
        if self.status == DONE:
            assert self.passed_on is not None
            return f"Done: passed on {day(self.passed_on)}"
        if self.status == LATE:
            return f"Late: was due by {day(self.due)}"
        return f"On track: due by {day(self.due)}"


def rows(
    session: Session,
    *,
    today: date,
    team_id: int | None = None,
    user_id: int | None = None,
) -> list[TrainingRow]:
    """Training assignments on a team's projects, or of one engineer, with their status."""
    ta = TrainingAssignment
    by = aliased(User)
    assigner = select(by.display_name).where(by.id == ta.assigned_by_id).scalar_subquery()
    query = (
        select(ta, User.display_name, Workshop, Project.name, Skill.name, assigner)
        .join(User, User.id == ta.user_id)
        .join(Workshop, Workshop.id == ta.workshop_id)
        .join(Project, Project.id == ta.project_id)
        .join(Skill, Skill.id == ta.skill_id)
        .where(User.active.is_(True))
        .order_by(ta.due_date, User.display_name, ta.position)
    )
    if team_id is not None:
        query = query.where(Project.team_id == team_id)
    if user_id is not None:
        query = query.where(ta.user_id == user_id)
    found = session.execute(query).all()
    users = sorted({row[0].user_id for row in found})
    passed: dict[tuple[int, int], date] = {
        (uid, wid): when.date()
        for uid, wid, when in session.execute(
            select(
                WorkshopProgress.user_id, WorkshopProgress.workshop_id, WorkshopProgress.passed_at
            ).where(WorkshopProgress.user_id.in_(users), WorkshopProgress.passed_at.is_not(None))
        )
        if when is not None
    }
    verified = {
        key: d.verified.level
        for key, d in evidence.load(session, user_ids=users).items()
        if d.verified is not None
    }
    names = dict(session.execute(select(ProficiencyLevel.level, ProficiencyLevel.name)).all())
    out = []
    for a, engineer, workshop, project, skill, by in found:
        passed_on = passed.get((a.user_id, a.workshop_id))
        if verified.get((a.user_id, a.skill_id), 0) >= a.level:
            status = VERIFIED
        elif passed_on is not None:
            status = DONE
        elif a.due_date < today:
            status = LATE
        else:
            status = ON_TRACK
        out.append(
            TrainingRow(
                a.id,
                a.user_id,
                engineer,
                workshop.id,
                workshop.slug,
                workshop.title,
                float(workshop.hours),
                project,
                skill,
                a.level,
                names.get(a.level, f"level {a.level}"),
                a.assigned_at.date(),
                a.due_date,
                passed_on,
                status,
                by or "",
                a.plan_run_id,
            )
        )
    return out


def tally(found: Sequence[TrainingRow]) -> dict[str, int]:
    """How many assignments are in each status, in STATUSES order."""
    return {s: sum(1 for r in found if r.status == s) for s in STATUSES}


def timeline(found: Sequence[TrainingRow]) -> list[dict[str, object]]:
    """Chart points: per assignment, who, what, from when it was assigned to when it is due
    (or was passed), and its status."""
    return [
        {
            "engineer": r.engineer,
            "workshop": r.workshop,
            "start": r.assigned_on.isoformat(),
            "end": max(r.passed_on or r.due, r.assigned_on).isoformat(),
            "status": r.status,
        }
        for r in found
    ]
