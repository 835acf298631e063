"""The training plan: load the optimiser's inputs from the database, solve, explain in words.

``load_inputs`` turns a team (or the whole organisation) into the optimiser's dataclasses with a
handful of set-based queries; ``explain`` (its own module) turns a ``Plan`` into sentences a
manager can act on. ``solve`` is run by a worker for a stored plan job (``runs``) or by the CLI;
``PlanReport`` goes to and from JSON so every server process reads the same stored plan.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from webapp.db import Session
from webapp.models import (
    ProficiencyLevel,
    Project,
    ProjectAssignment,
    TeamMembership,
    TrainingAssignment,
    UnavailablePeriod,
    User,
    Workshop,
    WorkshopPrerequisite,
    WorkshopProgress,
    WorkshopSkill,
    WorkshopSkillPrerequisite,
)
from webapp.services.planning.decompose import Part, plan_in_parts
from webapp.services.planning.explain import PlanLine, UnfilledLine, describe_hire, explain
from webapp.services.planning.inputs import PlanInputs
from webapp.services.planning.optimiser import (
    EngineerIn,
    Plan,
    PlanSettings,
    RequirementIn,
    WorkshopImpact,
    WorkshopIn,
    plan_training,
    single_hire_whatif,
    workshop_impact,
)
from webapp.services.planning.optimiser_model import Earlier
from webapp.services.planning.scenarios import lending, scenarios
from webapp.services.skills import levels as evidence
from webapp.services.staffing.gaps import load_requirements
from webapp.services.staffing.records import OPEN_STATUSES
from webapp.services.words import count


def _engineer_ids(session: Session, team_ids: Collection[int] | None) -> list[int]:
    """Active non-manager members of the teams (every active engineer when ``None``)."""
    query = select(TeamMembership.user_id).join(User, User.id == TeamMembership.user_id)
    query = query.where(User.active.is_(True), TeamMembership.is_manager.is_(False))
    if team_ids is not None:
        query = query.where(TeamMembership.team_id.in_(list(team_ids)))
    return sorted(set(session.scalars(query)))


def _capacity(
    session: Session, ids: list[int]
) -> tuple[dict[int, tuple[str, int, float | None]], dict[int, list[tuple[date, date]]]]:
    """Name, availability and weekly learning budget of each person, and their holidays."""
    people = {
        uid: (name, pct, hours)
        for uid, name, pct, hours in session.execute(
            select(
                User.id, User.display_name, User.availability_pct, User.learning_hours_per_week
            ).where(User.id.in_(ids))
        )
    }
    away: dict[int, list[tuple[date, date]]] = {}
    for uid, start, end in session.execute(
        select(UnavailablePeriod.user_id, UnavailablePeriod.starts_on, UnavailablePeriod.ends_on)
        .where(UnavailablePeriod.user_id.in_(ids))
        .order_by(UnavailablePeriod.starts_on)
    ):
        away.setdefault(uid, []).append((start, end))
    return people, away


def _levels(session: Session, ids: list[int], *, verified_only: bool) -> dict[int, dict[int, int]]:
    """user -> skill -> level: the current level, or with ``verified_only`` the verified one."""
    levels: dict[int, dict[int, int]] = {}
    for (uid, sid), deciding in evidence.load(session, user_ids=ids).items():
        row = deciding.verified if verified_only else deciding.winner
        if row is not None:
            levels.setdefault(uid, {})[sid] = row.level
    return levels


def accepted_training(session: Session, ids: list[int]) -> dict[int, frozenset[int]]:
    """user -> workshops a manager accepted for them (on open projects) and not yet passed."""
    passed = select(WorkshopProgress.workshop_id).where(
        WorkshopProgress.user_id == TrainingAssignment.user_id,
        WorkshopProgress.passed_at.is_not(None),
    )
    rows = session.execute(
        select(TrainingAssignment.user_id, TrainingAssignment.workshop_id)
        .join(Project, Project.id == TrainingAssignment.project_id)
        .where(
            TrainingAssignment.user_id.in_(ids),
            Project.status.in_(OPEN_STATUSES),
            TrainingAssignment.workshop_id.not_in(passed),
        )
    )
    out: dict[int, set[int]] = {}
    for uid, wid in rows:
        out.setdefault(uid, set()).add(wid)
    return {uid: frozenset(w) for uid, w in out.items()}


def committed_hours(session: Session, ids: list[int]) -> dict[int, tuple[tuple[date, float], ...]]:
    """user -> (due date, hours) of each workshop accepted for them and not passed yet: learning
    time already promised, which a new plan leaves room for (one entry per workshop, by its
    earliest due date)."""
    passed = select(WorkshopProgress.workshop_id).where(
        WorkshopProgress.user_id == TrainingAssignment.user_id,
        WorkshopProgress.passed_at.is_not(None),
    )
    rows = session.execute(
        select(
            TrainingAssignment.user_id,
            TrainingAssignment.workshop_id,
            func.min(TrainingAssignment.due_date),
            Workshop.hours,
        )
        .join(Project, Project.id == TrainingAssignment.project_id)
        .join(Workshop, Workshop.id == TrainingAssignment.workshop_id)
        .where(
            TrainingAssignment.user_id.in_(ids),
            Project.status.in_(OPEN_STATUSES),
            TrainingAssignment.workshop_id.not_in(passed),
        )
        .group_by(TrainingAssignment.user_id, TrainingAssignment.workshop_id, Workshop.hours)
    )
    out: dict[int, list[tuple[date, float]]] = {}
    for uid, _wid, due, hours in rows:
        out.setdefault(uid, []).append((due, float(hours)))
    return {uid: tuple(sorted(items)) for uid, items in out.items()}


def _engineers(
    session: Session,
    ids: list[int],
    *,
    verified_only: bool = False,
    accepted: Mapping[int, frozenset[int]] | None = None,
) -> tuple[EngineerIn, ...]:
    """The engineers as the optimiser sees them; ``accepted`` workshops count as taken (their
    lines were accepted, so a new plan starts from them)."""
    if not ids:
        return ()
    people, away = _capacity(session, ids)
    levels = _levels(session, ids, verified_only=verified_only)
    passed: dict[int, set[int]] = {uid: set(w) for uid, w in (accepted or {}).items()}
    for uid, wid in session.execute(
        select(WorkshopProgress.user_id, WorkshopProgress.workshop_id).where(
            WorkshopProgress.user_id.in_(ids), WorkshopProgress.passed_at.is_not(None)
        )
    ):
        passed.setdefault(uid, set()).add(wid)
    alloc: dict[int, dict[int, int]] = {}
    for uid, pid, pct in session.execute(
        select(ProjectAssignment.user_id, Project.id, ProjectAssignment.allocation_pct)
        .join(Project, Project.id == ProjectAssignment.project_id)
        .where(ProjectAssignment.user_id.in_(ids), Project.status.in_(OPEN_STATUSES))
    ):
        alloc.setdefault(uid, {})[pid] = pct
    return tuple(
        EngineerIn(
            uid,
            people[uid][0],
            levels.get(uid, {}),
            frozenset(passed.get(uid, ())),
            sum(alloc.get(uid, {}).values()),
            frozenset(alloc.get(uid, {})),
            alloc.get(uid, {}),
            people[uid][1],
            people[uid][2],
            tuple(away.get(uid, ())),
        )
        for uid in ids
    )


def _workshops(session: Session) -> tuple[WorkshopIn, ...]:
    rows = session.execute(
        select(Workshop.id, Workshop.title, Workshop.hours)
        .where(Workshop.archived.is_(False))
        .order_by(Workshop.id)
    ).all()
    verifies: dict[int, dict[int, int]] = {}
    for wid, sid, lvl in session.execute(
        select(WorkshopSkill.workshop_id, WorkshopSkill.skill_id, WorkshopSkill.level)
    ):
        verifies.setdefault(wid, {})[sid] = lvl
    pre_ws: dict[int, set[int]] = {}
    for wid, rid in session.execute(
        select(WorkshopPrerequisite.workshop_id, WorkshopPrerequisite.required_id)
    ):
        pre_ws.setdefault(wid, set()).add(rid)
    pre_lv: dict[int, dict[int, int]] = {}
    sp = WorkshopSkillPrerequisite
    for wid, sid, lvl in session.execute(select(sp.workshop_id, sp.skill_id, sp.level)):
        pre_lv.setdefault(wid, {})[sid] = lvl
    return tuple(
        WorkshopIn(
            wid,
            title,
            float(hours),
            verifies[wid],
            frozenset(pre_ws.get(wid, ())),
            pre_lv.get(wid, {}),
        )
        for wid, title, hours in rows
        if verifies.get(wid)
    )


def load_inputs(
    session: Session, team_ids: Collection[int] | None, *, verified_only: bool = False
) -> PlanInputs:
    """The optimiser's inputs for the teams' engineers and open projects (all when ``None``).

    With ``verified_only`` levels come from verified workshop evidence alone (claims ignored).
    Workshops accepted from an earlier plan count as taken, so re-planning keeps those lines,
    and their hours as learning time already promised (``committed``)."""
    rows = load_requirements(session, team_ids=team_ids)
    reqs = tuple(
        RequirementIn(
            r.id,
            r.project_id,
            r.project_name,
            r.skill_id,
            r.skill_name,
            r.min_level,
            r.headcount,
            r.importance,
            r.allocation_pct,
            r.start_date,
        )
        for r in rows
    )
    levels = dict(session.execute(select(ProficiencyLevel.level, ProficiencyLevel.name)).all())
    ids = _engineer_ids(session, team_ids)
    accepted = accepted_training(session, ids)
    engineers = _engineers(session, ids, verified_only=verified_only, accepted=accepted)
    parts = _parts(session, ids, rows) if team_ids is None else ()
    committed = committed_hours(session, ids)
    return PlanInputs(engineers, _workshops(session), reqs, levels, accepted, parts, committed)


def load_lenders(
    session: Session, team_ids: Collection[int], *, verified_only: bool = False
) -> tuple[EngineerIn, ...]:
    """The engineers of every other team, as the optimiser sees them, for the lending what-if."""
    own = set(_engineer_ids(session, team_ids))
    others = [i for i in _engineer_ids(session, None) if i not in own]
    if not others:
        return ()
    accepted = accepted_training(session, others)
    return tuple(_engineers(session, others, verified_only=verified_only, accepted=accepted))


def _parts(session: Session, ids: list[int], rows: Sequence[Any]) -> tuple[Part, ...]:
    """Each team's engineers (a person in several teams counts in the first) and the
    requirements of its projects: the parts of an organisation-wide plan."""
    first_team: dict[int, int] = {}
    for uid, tid in session.execute(
        select(TeamMembership.user_id, TeamMembership.team_id)
        .where(TeamMembership.user_id.in_(ids), TeamMembership.is_manager.is_(False))
        .order_by(TeamMembership.team_id)
    ):
        first_team.setdefault(uid, tid)
    people: dict[int, set[int]] = {}
    for uid, tid in first_team.items():
        people.setdefault(tid, set()).add(uid)
    needs: dict[int, set[int]] = {}
    for r in rows:
        needs.setdefault(r.team_id, set()).add(r.id)
    return tuple(
        Part(frozenset(people.get(t, ())), frozenset(needs.get(t, ())))
        for t in sorted(people.keys() | needs.keys())
    )


@dataclass(frozen=True)
class PlanReport:
    """A solved plan with everything the page, the CSV and the API show; stored as JSON."""

    plan: Plan
    lines: tuple[PlanLine, ...]
    unfilled: tuple[UnfilledLine, ...]
    impacts: tuple[WorkshopImpact, ...]
    hires: tuple[str, ...]
    digest: str
    computed_at: datetime
    engineers: int
    slots: int
    scenarios: tuple[str, ...] = ()  # more learning time, a later start (planning/scenarios.py)
    lending_slots: int = 0  # more slots engineers of other teams would fill
    lending_names: tuple[str, ...] = ()  # who: for admins only (their levels are not the team's)

    @property
    def status_text(self) -> str:
        """The plan's quality in words, honest about what was proven."""
        if self.plan.status == "empty":
            return "There are no open requirements to plan for."
        gap = self.plan.gap
        if self.plan.status == "bounded":
            if gap == float("inf"):
                return "No bound on the best plan was proven; this plan may be far from the best."
            return (
                f"Planned skill by skill (or team by team, whichever was cheaper): at most "
                f"{gap:.1%} worse than the best possible plan, as proven by a lower bound."
            )
        if self.plan.status == "optimal":
            return (
                f"Optimal within {gap:.1%} of the best possible plan "
                "(among the few cheapest trainees per requirement that the optimiser considers)."
            )
        if gap == float("inf"):
            return "The time limit ran out before any plan was found; the plan fills no slot."
        return f"The time limit ran out: this plan may be up to {gap:.1%} worse than the best."

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types only (dates as ISO strings), for the stored plan job."""
        return {
            "plan": self.plan.to_json(),
            "lines": [_line_json(line) for line in self.lines],
            "unfilled": [dict(vars(u)) for u in self.unfilled],
            "impacts": [vars(i) | {"names": list(i.names)} for i in self.impacts],
            "hires": list(self.hires),
            "digest": self.digest,
            "computed_at": self.computed_at.isoformat(),
            "engineers": self.engineers,
            "slots": self.slots,
            "scenarios": list(self.scenarios),
            "lending_slots": self.lending_slots,
            "lending_names": list(self.lending_names),
        }

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> PlanReport:
        lines = tuple(
            PlanLine(
                **{k: v for k, v in line.items() if k not in ("due", "workshops", "accepted")},
                due=date.fromisoformat(line["due"]),
                workshops=tuple((t, float(h)) for t, h in line["workshops"]),
                accepted=tuple(line.get("accepted", ())),
            )
            for line in body["lines"]
        )
        return cls(
            Plan.from_json(body["plan"]),
            lines,
            tuple(UnfilledLine(**u) for u in body["unfilled"]),
            tuple(WorkshopImpact(**(i | {"names": tuple(i["names"])})) for i in body["impacts"]),
            tuple(body["hires"]),
            body["digest"],
            datetime.fromisoformat(body["computed_at"]),
            int(body["engineers"]),
            int(body["slots"]),
            tuple(body.get("scenarios", ())),  # plans stored before there were scenarios
            int(body.get("lending_slots", 0)),
            tuple(body.get("lending_names", ())),
        )


def _line_json(line: PlanLine) -> dict[str, Any]:
    return vars(line) | {
        "due": line.due.isoformat(),
        "workshops": [list(w) for w in line.workshops],
        "accepted": list(line.accepted),
    }


def solve(
    inputs: PlanInputs,
    settings: PlanSettings,
    *,
    what_ifs: bool = True,
    what_if_time_s: float = 2.0,
    on_stage: Callable[[str], None] = lambda _: None,
    lenders: Sequence[EngineerIn] = (),
) -> PlanReport:
    """Solve the plan; with ``what_ifs``, also rank workshops by impact and try one more hire.
    ``on_stage`` hears, in words, each step as it starts (for a job's live progress)."""
    args = (inputs.engineers, inputs.workshops, inputs.requirements)
    slots = sum(r.headcount for r in inputs.requirements)
    on_stage(
        f"Finding the plan for {count(len(inputs.engineers), 'engineer')} and "
        f"{count(slots, 'slot')} (at most {settings.time_limit_s:g} s)"
    )
    earlier = Earlier(spent=dict(inputs.committed)) if inputs.committed else None
    if inputs.parts:
        plan = plan_in_parts(*args, settings, inputs.parts, on_stage=on_stage, earlier=earlier)
    else:
        plan = plan_training(*args, settings, earlier=earlier)
    lines, unfilled = explain(inputs, plan, settings)
    impacts: tuple[WorkshopImpact, ...] = ()
    hires: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    lent: tuple[int, tuple[str, ...]] = (0, ())
    if what_ifs and plan.unfilled_slots:
        on_stage(
            "Trying what-ifs: which workshops, one more hire, more learning time or a later "
            "start would close the most"
        )
        quick = replace(settings, time_limit_s=min(what_if_time_s, settings.time_limit_s))
        impacts = tuple(i for i in workshop_impact(*args, quick) if i.slots_closed)[:5]
        skills = {r.skill_id: r.skill_name for r in inputs.requirements}
        options = single_hire_whatif(*args, quick, max_profiles=4)
        hires = tuple(describe_hire(o, inputs, skills) for o in options[:3] if o.saving > 0)
        if not inputs.parts:  # a team's plan; the organisation's, in parts, is too big to re-plan
            quick_base = plan_training(*args, quick)
            changed = scenarios(*args, quick, quick_base)
            lent = lending(
                inputs.engineers, lenders, inputs.workshops, inputs.requirements, quick, quick_base
            )
    return PlanReport(
        plan,
        lines,
        unfilled,
        impacts,
        hires,
        inputs.digest(settings),
        datetime.now(UTC),
        len(inputs.engineers),
        slots,
        changed,
        *lent,
    )


def team_ids_with_requirements(session: Session) -> list[int]:
    """Teams that own at least one open project with a requirement, for per-team solving."""
    return sorted({r.team_id for r in load_requirements(session)})


def combine(reports: list[tuple[int, PlanReport]]) -> dict[str, object]:
    """One JSON body for plans solved team by team: sums, the worst gap, every line.

    The parts are solved independently (a team's engineers staff its own projects), so the
    combined plan is optimal only within that decomposition; ``teams`` gives each part's status.
    """
    plans = [r.plan for _, r in reports]
    gaps = [p.gap for p in plans]
    return {
        "status": "optimal"
        if all(p.status in ("optimal", "empty") for p in plans)
        else "time_limit",
        "objective": sum(p.objective for p in plans),
        "gap": None if any(g == float("inf") for g in gaps) else max(gaps, default=0.0),
        "training_hours": sum(p.training_hours for p in plans),
        "unfilled_slots": sum(p.unfilled_slots for p in plans),
        "assignments": [a for p in plans for a in p.to_json()["assignments"]],  # type: ignore[attr-defined]
        "training": [t for p in plans for t in p.to_json()["training"]],  # type: ignore[attr-defined]
        "explanations": [line.sentence for _, r in reports for line in r.lines],
        "teams": [
            {
                "team_id": tid,
                "status": r.plan.status,
                "gap": r.plan.to_json()["gap"],
                "solve_seconds": r.plan.solve_seconds,
            }
            for tid, r in reports
        ],
    }
