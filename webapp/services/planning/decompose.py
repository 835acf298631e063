"""The organisation-wide plan in parts, for organisations too large to solve as one model.

A small organisation is solved as one model first; an optimal answer there is final. Otherwise
two plans are made and the cheaper kept, so the result is never worse than the teams' own plans
combined: each team's engineers for its own projects' slots (the parts, solved on their own),
and the whole organisation skill by skill, scarcest skill first, each skill's slots among its
candidates (everyone who holds the level and the cheapest few to train) over what the skills
before it left of everyone's share of time, learning hours and roles. The plan's quality is
proven against a lower bound on every plan of the whole organisation (``survey``): the gap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import highspy
import numpy as np

from webapp.services.planning.greedy import greedy_plan
from webapp.services.planning.optimiser import (
    EngineerIn,
    Plan,
    PlannedTraining,
    PlanSettings,
    RequirementIn,
    WorkshopIn,
    plan_training,
)
from webapp.services.planning.optimiser_model import Earlier, Instance, topological_order

WHOLE_MODEL_MAX_PAIRS = 250_000  # engineers x requirements tried as one model first
TEAMS_SHARE = 0.25  # of the time limit, by when the teams' own plans are done
FINISH_SHARE = 0.85  # the skill-by-skill plan ends by then; the rest is for decoding and words
ROUNDS = 3  # of the skill-by-skill pass
MIN_PART_S = 0.05  # a part given less time than this is left open
CANDIDATE_TRAINEES = 8  # per open slot, the cheapest to train kept for the skill-by-skill pass
BOUND_CHUNK = 2_000  # engineers at a time when bounding (memory stays small at any size)


@dataclass(frozen=True)
class Part:
    """Engineers who first staff these requirements (a team and its projects' slots)."""

    engineer_ids: frozenset[int]
    requirement_ids: frozenset[int]


def plan_in_parts(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
    parts: Sequence[Part],
    *,
    on_stage: Callable[[str], None] = lambda _: None,
    earlier: Earlier | None = None,
) -> Plan:
    """The organisation's plan within ``settings.time_limit_s``: status "optimal" when proven
    within the gap target, else "bounded" with the proven gap (infinite when none is proven).
    ``earlier``: learning time already promised (accepted training), kept free in every part."""
    started = time.perf_counter()
    limit = float(settings.time_limit_s)
    if not requirements:
        return Plan("empty", 0.0, 0.0, 0.0, 0, (), (), (), 0.0)
    whole: Plan | None = None
    if len(engineers) * len(requirements) <= WHOLE_MODEL_MAX_PAIRS:
        on_stage("Solving the organisation as one model")
        whole = plan_training(
            engineers,
            workshops,
            requirements,
            replace(settings, time_limit_s=limit / 2),
            earlier=earlier,
        )
        if whole.status == "optimal":
            return whole
    on_stage("Bounding the best possible plan")
    bound, candidates = survey(engineers, workshops, requirements, settings)
    if whole is not None and whole.gap < float("inf"):
        bound = max(bound, whole.objective - whole.gap * abs(whole.objective))
    budget = max(0.0, TEAMS_SHARE * limit - (time.perf_counter() - started))
    teams = _parts_first(
        engineers, workshops, requirements, settings, parts, budget, on_stage, earlier
    )
    ends = started + FINISH_SHARE * limit
    nothing = merge(workshops, requirements, settings, [])
    skills = _across(
        engineers, workshops, requirements, settings, nothing, ends, on_stage, candidates, earlier
    )
    best = min((p for p in (whole, teams, skills) if p is not None), key=lambda p: p.objective)
    gap = _gap(best.objective, bound)
    status = "optimal" if gap <= settings.mip_gap + 1e-9 else "bounded"
    return replace(best, status=status, gap=gap, solve_seconds=time.perf_counter() - started)


def _gap(objective: float, bound: float) -> float:
    if objective <= 1e-9:
        return 0.0
    return max(0.0, (objective - bound) / objective)


def _parts_first(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
    parts: Sequence[Part],
    budget: float,
    on_stage: Callable[[str], None],
    earlier: Earlier | None,
) -> Plan:
    """Each part solved on its own (they share no one), its time a share of ``budget`` by its
    slots; a part whose share has run out is left to the pass across teams."""
    by_id = {e.id: e for e in engineers}
    reqs = {r.id: r for r in requirements}
    jobs = []
    for part in parts:
        rs = [reqs[r] for r in sorted(part.requirement_ids) if r in reqs]
        es = [by_id[e] for e in sorted(part.engineer_ids) if e in by_id]
        if rs and es:
            jobs.append((es, rs))
    ends = time.perf_counter() + budget
    state = _State(earlier)  # the parts share no one: each sees only what was promised before
    done = _in_turn(jobs, workshops, settings, ends, "Planning team by team", on_stage, state)
    return merge(workshops, requirements, settings, [p for _, p in done])


def _across(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
    first: Plan,
    ends: float,
    on_stage: Callable[[str], None],
    candidates: Mapping[int, set[int]],
    earlier: Earlier | None,
) -> Plan:
    """``first`` plus the slots it left open, skill by skill, each over what everyone has left
    after ``first`` and the skills before it (share of time, learning hours, roles); the
    scarcest skills (fewest holders per open slot) first, each among its ``candidates``."""
    reqs = {r.id: r for r in requirements}
    holders: dict[int, int] = {}
    for e in engineers:
        for skill in e.levels:
            holders[skill] = holders.get(skill, 0) + 1
    state = _State(earlier)
    state.add(first, reqs)
    plan, retry = first, {reqs[r].skill_id for r, _ in first.unfilled}
    first_round = True
    for _ in range(ROUNDS):  # a skill whose time ran out before any plan tries again after
        by_skill: dict[int, list[RequirementIn]] = {}
        for r, n in plan.unfilled:
            if reqs[r].skill_id in retry:
                by_skill.setdefault(reqs[r].skill_id, []).append(replace(reqs[r], headcount=n))
        if not by_skill or ends - time.perf_counter() < MIN_PART_S:
            break
        order = sorted(
            by_skill,
            key=lambda s: (holders.get(s, 0) / sum(r.headcount for r in by_skill[s]), s),
        )
        # Then the skills again whose time ran out, a requirement at a time (small models).
        groups = (
            [[rs] for rs in (by_skill[s] for s in order)]
            if first_round
            else [[[r] for r in by_skill[s]] for s in order]
        )
        jobs, skill_of = [], []
        for skill, group in zip(order, groups, strict=True):
            for rs in group:
                ids = set().union(*(candidates.get(r.id, set()) for r in rs))
                jobs.append(([e for e in engineers if e.id in ids], rs))
                skill_of.append(skill)
        done = _in_turn(jobs, workshops, settings, ends, "Planning skill by skill", on_stage, state)
        plan = merge(workshops, requirements, settings, [plan, *(p for _, p in done)])
        retry = {skill_of[i] for i, p in done if p.status == "time_limit" and p.unfilled}
        first_round = False
    return plan


def _in_turn(
    jobs: Sequence[tuple[list[EngineerIn], list[RequirementIn]]],
    workshops: Sequence[WorkshopIn],
    settings: PlanSettings,
    ends: float,
    stage: str,
    on_stage: Callable[[str], None],
    state: _State,
) -> list[tuple[int, Plan]]:
    """Solve the jobs one after another, each given a share of the time left by its slots;
    each sees what ``state`` holds: what was promised before and what the plans before it
    gave. Gives (job index, plan) for each job solved (one whose share is too small is left
    out)."""
    slots_left = sum(r.headcount for _, rs in jobs for r in rs)
    plans: list[tuple[int, Plan]] = []
    for n, (es, rs) in enumerate(jobs, start=1):
        on_stage(f"{stage}: {n} of {len(jobs)}")
        slots = sum(r.headcount for r in rs)
        share = (ends - time.perf_counter()) * slots / max(slots_left, 1)
        slots_left -= slots
        if share < MIN_PART_S:
            continue  # out of time: these slots stay open
        people = state.free(es, rs)
        earlier = Earlier(frozenset(state.held), state.spent)
        part = plan_training(
            people,
            workshops,
            rs,
            replace(settings, time_limit_s=share),
            earlier=earlier,
            deadline=time.perf_counter() + share,
        )
        if part.status != "optimal":  # out of time: greedy, where it does better
            quick = greedy_plan(people, workshops, rs, settings, earlier)
            if quick.objective < part.objective:
                part = replace(quick, status="time_limit")
        plans.append((n - 1, part))
        state.add(part, {r.id: r for r in rs})
    return plans


class _State:
    """What the plan so far gives each person: new roles (project -> share), the projects they
    now hold a role on, and their planned training (due date, hours)."""

    def __init__(self, earlier: Earlier | None = None) -> None:
        self.added: dict[int, dict[int, int]] = {}
        self.held: set[tuple[int, int]] = set(earlier.held if earlier else ())
        self.spent: dict[int, list[tuple[date, float]]] = {
            e: list(items) for e, items in (earlier.spent if earlier else {}).items()
        }

    def add(self, plan: Plan, reqs: Mapping[int, RequirementIn]) -> None:
        for a in plan.assignments:
            req = reqs[a.requirement_id]
            self.added.setdefault(a.engineer_id, {})[req.project_id] = req.allocation_pct
            self.held.add((a.engineer_id, req.project_id))
        for t in plan.training:
            self.spent.setdefault(t.engineer_id, []).append((t.finish_by, t.hours))

    def free(
        self, engineers: Sequence[EngineerIn], rs: Sequence[RequirementIn]
    ) -> list[EngineerIn]:
        """The engineers as they stand now, without those with no room for any of ``rs``."""
        smallest = min(r.allocation_pct for r in rs)
        projects = {r.project_id for r in rs}
        out = []
        for e in engineers:
            now = _with_roles(e, self.added.get(e.id, {}))
            room = now.availability_pct - max(now.allocated_pct, sum(now.allocations.values()))
            if room >= smallest or projects & now.allocations.keys():
                out.append(now)
        return out


def _with_roles(e: EngineerIn, roles: Mapping[int, int]) -> EngineerIn:
    """The engineer with the plan's new roles added to their assignments."""
    if not roles:
        return e
    allocations = dict(e.allocations)
    load = max(e.allocated_pct, sum(e.allocations.values()))
    for project, share in roles.items():
        load += max(share - allocations.get(project, 0), 0)
        allocations[project] = max(share, allocations.get(project, 0))
    return replace(e, allocated_pct=load, allocations=allocations)


def merge(
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
    plans: Sequence[Plan],
) -> Plan:
    """One plan of parts that share no slot: a workshop planned twice for someone is kept once
    (by the earlier date), and each person's workshops are ordered again, earliest due first."""
    filled: dict[int, int] = {}
    for p in plans:
        for a in p.assignments:
            filled[a.requirement_id] = filled.get(a.requirement_id, 0) + 1
    assignments = tuple(
        sorted(
            (a for p in plans for a in p.assignments),
            key=lambda a: (a.requirement_id, a.engineer_id),
        )
    )
    rank = {workshops[i].id: n for n, i in enumerate(topological_order(workshops))}
    kept: dict[tuple[int, int], PlannedTraining] = {}
    for t in (t for p in plans for t in p.training):
        seen = kept.get((t.engineer_id, t.workshop_id))
        if seen is not None:
            t = replace(
                t,
                finish_by=min(t.finish_by, seen.finish_by),
                for_requirements=tuple(sorted({*t.for_requirements, *seen.for_requirements})),
            )
        kept[(t.engineer_id, t.workshop_id)] = t
    training: list[PlannedTraining] = []
    for e in sorted({e for e, _ in kept}):
        mine = sorted(
            (t for (who, _), t in kept.items() if who == e),
            key=lambda t: (t.finish_by, rank.get(t.workshop_id, 0)),
        )
        training += [replace(t, order=n) for n, t in enumerate(mine, start=1)]
    unfilled = tuple(
        (r.id, r.headcount - filled.get(r.id, 0))
        for r in requirements
        if r.headcount - filled.get(r.id, 0) > 0
    )
    weight = {r.id: settings.unfilled_penalty_hours * r.importance for r in requirements}
    hours = float(sum(t.hours for t in training))
    objective = hours + sum(weight[r] * n for r, n in unfilled)
    status = "optimal" if all(p.status in ("optimal", "empty") for p in plans) else "time_limit"
    return Plan(
        status,
        objective,
        float("inf"),
        hours,
        sum(n for _, n in unfilled),
        unfilled,
        assignments,
        tuple(training),
        sum(p.solve_seconds for p in plans),
    )


def lower_bound(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
) -> float:
    """A bound no plan of the whole organisation can beat (see ``survey``)."""
    return survey(engineers, workshops, requirements, settings)[0]


def survey(
    engineers: Sequence[EngineerIn],
    workshops: Sequence[WorkshopIn],
    requirements: Sequence[RequirementIn],
    settings: PlanSettings,
) -> tuple[float, dict[int, set[int]]]:
    """A lower bound on every plan's cost, and each requirement's candidates (engineer ids).

    The bound is a relaxation, solved skill by skill as a transportation problem (an LP): each
    slot of a skill is filled by a distinct person or costs its unfilled penalty; a person costs
    nothing if they hold the level, else the hours they need at least (their training may serve
    several of their roles, so it is divided by the most roles they could hold, by share of time
    and one per project), and holds at most that many roles. Only people whose free share fits
    the role and who can be trained in time take part. Dropped: what couples skills (a person's
    time and learning hours across them) and the learning-hour schedule. Every plan costs at
    least the sum, so objective minus bound over objective is a true gap. Per requirement only
    the cheapest people up to the skill's slots matter (a dearer one could always be swapped
    for one of them who is left over), which keeps the LPs small at any size.

    The candidates are everyone who holds the level and has room for the role, and the
    cheapest few to train (CANDIDATE_TRAINEES per open slot): the people worth modelling.
    """
    today = settings.today or date.today()
    n_projects = len({r.project_id for r in requirements})
    open_slots = np.array([max(r.headcount, 0) for r in requirements], dtype=np.int64)
    weight = np.array([settings.unfilled_penalty_hours * r.importance for r in requirements])
    skill_slots: dict[int, int] = {}
    for req in requirements:
        skill_slots[req.skill_id] = skill_slots.get(req.skill_id, 0) + max(req.headcount, 0)
    keep_for = [skill_slots[req.skill_id] for req in requirements]
    cheapest: list[list[tuple[float, int]]] = [[] for _ in requirements]
    most_roles: dict[int, float] = {}
    holders: list[list[int]] = [[] for _ in requirements]
    trainees: list[list[tuple[float, int]]] = [[] for _ in requirements]
    for at in range(0, len(engineers), BOUND_CHUNK):
        chunk = engineers[at : at + BOUND_CHUNK]
        inst = Instance(chunk, workshops, requirements, settings, today)
        cost = inst.role_cost
        free = cost <= inst.cap[:, None] + 1e-9
        positive = np.where(free & (cost > 1e-9), cost, np.inf).min(axis=1)
        roles = np.maximum(
            np.where(
                (free & (cost <= 1e-9)).any(axis=1),
                n_projects,
                np.minimum(n_projects, np.floor((inst.cap + 1e-9) / positive)),
            ),
            1.0,
        )
        most_roles.update((e.id, float(m)) for e, m in zip(chunk, roles.tolist(), strict=True))
        able = free & inst.in_time
        per_slot = np.minimum(inst.training_bound / roles[:, None], weight[None, :])
        for r, n in enumerate(open_slots.tolist()):
            if n == 0:
                continue
            who = np.flatnonzero(able[:, r])
            if len(who) > keep_for[r]:
                who = who[np.argpartition(per_slot[who, r], keep_for[r] - 1)[: keep_for[r]]]
            cheapest[r] += [(float(per_slot[i, r]), chunk[i].id) for i in who.tolist()]
            cheapest[r] = sorted(cheapest[r])[: keep_for[r]]
            qualified = np.flatnonzero(able[:, r] & inst.qualified[:, r]).tolist()
            holders[r] += [chunk[i].id for i in qualified]
            keep = CANDIDATE_TRAINEES * n
            train = np.flatnonzero(able[:, r] & ~inst.qualified[:, r])
            if len(train) > keep:
                train = train[np.argpartition(inst.training_bound[train, r], keep - 1)[:keep]]
            trainees[r] += [(float(inst.training_bound[i, r]), chunk[i].id) for i in train.tolist()]
    candidates: dict[int, set[int]] = {}
    for r, req in enumerate(requirements):
        best = sorted(trainees[r])[: CANDIDATE_TRAINEES * int(open_slots[r])]
        candidates[req.id] = set(holders[r]) | {e for _, e in best}
    by_skill: dict[int, list[int]] = {}
    for r, req in enumerate(requirements):
        if open_slots[r] > 0:
            by_skill.setdefault(req.skill_id, []).append(r)
    bound = sum(
        _transport_bound(
            [(int(open_slots[r]), float(weight[r]), cheapest[r]) for r in rs], most_roles
        )
        for rs in by_skill.values()
    )
    return bound, candidates


def _transport_bound(
    slots: Sequence[tuple[int, float, Sequence[tuple[float, int]]]], roles: Mapping[int, float]
) -> float:
    """min sum cost*y + weight*u: each requirement's open slots = its people (y in [0, 1]) plus
    its unfilled (u); each person in at most ``roles`` of them. The LP's optimum (a lower bound
    on the integer one, and equal to it here: the matrix is a network's)."""
    people = sorted({e for _, _, cands in slots for _, e in cands})
    row_of = {e: len(slots) + i for i, e in enumerate(people)}
    cost, upper, start, index = [], [], [0], []
    for r, (n, w, cands) in enumerate(slots):
        for c, e in cands:
            cost.append(c)
            upper.append(1.0)
            index += [r, row_of[e]]
            start.append(len(index))
        cost.append(w)
        upper.append(float(n))
        index.append(r)
        start.append(len(index))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(cost), len(slots) + len(people)
    lp.col_cost_ = np.array(cost)
    lp.col_lower_ = np.zeros(len(cost))
    lp.col_upper_ = np.array(upper)
    lp.row_lower_ = np.array([float(n) for n, _, _ in slots] + [-highspy.kHighsInf] * len(people))
    lp.row_upper_ = np.array([float(n) for n, _, _ in slots] + [roles[e] for e in people])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    lp.a_matrix_.start_ = np.array(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(len(index))
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.passModel(lp)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return 0.0  # never claims more than it proved
    # The dual objective would be safer against round-off; the LP is tiny and exact enough.
    return max(0.0, float(highs.getInfo().objective_function_value) - 1e-6)


__all__ = ["Part", "lower_bound", "merge", "plan_in_parts"]
