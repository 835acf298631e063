"""A project's existing assignments checked against the capacity rules, in sentences.

The rules are the optimiser's (``availability``): assignments within a person's availability,
one role per person per project, a role's share of time covered by the assignment. Only the
people whose levels the viewer may see are checked (the others are not counted either).
"""

from __future__ import annotations

from collections.abc import Sequence

from webapp.db import Session
from webapp.services.staffing import availability
from webapp.services.staffing.gaps import Assignee, RequirementGap
from webapp.services.words import and_list, count


def violations(session: Session, rows: Sequence[RequirementGap]) -> list[str]:
    """What breaks the rules among one project's gap rows (``gaps(..., with_assignees=True)``)."""
    if not rows:
        return []
    seen = {a.user_id for g in rows for a in g.assignees if not a.hidden}
    loads = availability.load_people(session, seen)
    out = [_over(loads[uid]) for uid in sorted(seen, key=lambda u: loads[u].name)]
    out += _roles(rows)
    for g in rows:
        for a in g.assignees:
            if a.hidden:
                continue
            if a.no_time:
                out.append(_no_time(g, a, loads[a.user_id]))
            elif a.qualified and loads[a.user_id].on(g.req.project_id) < g.req.allocation_pct:
                out.append(_under(g, a, loads[a.user_id]))
    return [sentence for sentence in out if sentence]


def _over(load: availability.Load) -> str:
    if load.total <= load.availability_pct:
        return ""
    shares = [f"{name} ({pct} %)" for _, name, pct in load.projects]
    where = f"across {and_list(shares)}" if len(shares) > 1 else f"to {shares[0]}"
    return (
        f"{load.name} is assigned {load.total} % of their time {where}, over their availability "
        f"of {load.availability_pct} %."
    )


def _roles(rows: Sequence[RequirementGap]) -> list[str]:
    """People qualified for a requirement left short who count toward another one instead."""
    extra: dict[int, list[str]] = {}
    held: dict[int, tuple[str, str]] = {}
    for g in rows:
        for a in g.assignees:
            if a.held and g.missing and a.level is not None and a.level >= g.req.min_level:
                extra.setdefault(a.user_id, []).append(g.req.skill_name)
                held[a.user_id] = (a.name, a.held)
    out = []
    for uid, skills in sorted(extra.items(), key=lambda kv: held[kv[0]][0]):
        name, role = held[uid]
        out.append(
            f"{name} is qualified for {count(len(skills) + 1, 'role')} on "
            f"{rows[0].req.project_name} ({and_list([role, *skills])}) but holds one role per "
            f"project: counted toward {role} only."
        )
    return out


def _no_time(g: RequirementGap, a: Assignee, load: availability.Load) -> str:
    here = load.on(g.req.project_id)
    return (
        f"{a.name} is qualified for {g.req.skill_name}, but its {g.req.allocation_pct} % of "
        f"their time would take them over their availability of {load.availability_pct} % "
        f"(assigned {load.total} % in all, {here} % here): not counted."
    )


def _under(g: RequirementGap, a: Assignee, load: availability.Load) -> str:
    return (
        f"{a.name} counts toward {g.req.skill_name}, which asks {g.req.allocation_pct} % of "
        f"their time, but is assigned {load.on(g.req.project_id)} % to {g.req.project_name}: "
        f"raise the assignment to {g.req.allocation_pct} %."
    )
