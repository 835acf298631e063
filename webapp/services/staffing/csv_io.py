"""CSV export and import of projects, requirements, assignments and role profiles.

Imports check every row before writing anything: a file with any bad row raises ``RowErrors``
listing each line and nothing is stored. Names (project, team, skill code, email) identify rows,
so an exported file can be edited and imported back.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update

from webapp.db import Session
from webapp.models import (
    Project,
    ProjectAssignment,
    ProjectRequirement,
    RoleProfile,
    RoleProfileSkill,
    Skill,
    Team,
    User,
)
from webapp.services import audit, tabular
from webapp.services.access import policy
from webapp.services.errors import DomainError, InvalidInput, RowErrors
from webapp.services.rows import chunks
from webapp.services.staffing import profiles, records
from webapp.services.tabular import fold, to_csv

KINDS = ("projects", "requirements", "assignments", "profiles")


def _length(column: Any) -> int:
    return int(column.property.columns[0].type.length)


COLUMNS: dict[str, tuple[str, ...]] = {
    "projects": ("name", "team", "start_date", "status", "description"),
    "requirements": ("project", "skill", "min_level", "headcount", "importance", "allocation_pct"),
    "assignments": ("project", "email", "allocation_pct"),
    "profiles": ("profile", "skill", "level"),
}
# The longest cells the database columns hold (checked before anything is written, so SQLite,
# which would store them whole, and PostgreSQL, which would refuse them, answer alike).
LIMITS: dict[str, tuple[str, int]] = {
    "name": ("project name", _length(Project.name)),
    "project": ("project name", _length(Project.name)),
    "team": ("team name", _length(Team.name)),
    "email": ("email", _length(User.email)),
    "profile": ("profile name", _length(RoleProfile.name)),
    "skill": ("skill code", _length(Skill.code)),
    "description": ("description", 4000),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "projects": ("name", "team", "start_date"),
    "requirements": ("project", "skill", "min_level"),
    "assignments": ("project", "email"),
    "profiles": ("profile", "skill", "level"),
}


def export(session: Session, kind: str, team_ids: Collection[int] | None) -> str:
    """One of KINDS as CSV, limited to the teams' projects (profiles are organisation-wide)."""
    rows = {
        "projects": _project_rows,
        "requirements": _requirement_rows,
        "assignments": _assignment_rows,
        "profiles": lambda s, _t: _profile_rows(s),
    }[kind](session, team_ids)
    return to_csv(COLUMNS[kind], rows)


def _scoped(query: Any, team_ids: Collection[int] | None) -> Any:
    return query if team_ids is None else query.where(Project.team_id.in_(list(team_ids)))


def _project_rows(session: Session, team_ids: Collection[int] | None) -> list[tuple[object, ...]]:
    query = select(Project.name, Team.name, Project.start_date, Project.status, Project.description)
    query = query.join(Team, Team.id == Project.team_id).order_by(Project.name)
    return [
        (n, t, d.isoformat(), s, desc)
        for n, t, d, s, desc in session.execute(_scoped(query, team_ids))
    ]


def _requirement_rows(
    session: Session, team_ids: Collection[int] | None
) -> list[tuple[object, ...]]:
    r = ProjectRequirement
    query = (
        select(Project.name, Skill.code, r.min_level, r.headcount, r.importance, r.allocation_pct)
        .join(Project, Project.id == r.project_id)
        .join(Skill, Skill.id == r.skill_id)
        .order_by(Project.name, Skill.code)
    )
    return [tuple(row) for row in session.execute(_scoped(query, team_ids))]


def _assignment_rows(
    session: Session, team_ids: Collection[int] | None
) -> list[tuple[object, ...]]:
    query = (
        select(Project.name, User.email, ProjectAssignment.allocation_pct)
        .join(Project, Project.id == ProjectAssignment.project_id)
        .join(User, User.id == ProjectAssignment.user_id)
        .order_by(Project.name, User.email)
    )
    return [tuple(row) for row in session.execute(_scoped(query, team_ids))]


def _profile_rows(session: Session) -> list[tuple[object, ...]]:
    query = (
        select(RoleProfile.name, Skill.code, RoleProfileSkill.level)
        .join(RoleProfileSkill, RoleProfileSkill.profile_id == RoleProfile.id)
        .join(Skill, Skill.id == RoleProfileSkill.skill_id)
        .where(RoleProfile.archived.is_(False))
        .order_by(RoleProfile.name, Skill.code)
    )
    return [tuple(row) for row in session.execute(query)]


@dataclass(frozen=True)
class ImportResult:
    kind: str
    rows: int


@dataclass
class _Lookups:
    """Names to ids, loaded once per import (no query per row)."""

    teams: dict[str, int]  # folded name (tabular.fold) -> id
    projects: dict[str, tuple[int, int]]  # folded name -> (id, team id)
    skills: dict[str, int]
    users: dict[str, int]
    scope: set[int] | None
    staffable: set[int] | None


def _lookups(session: Session, actor: User) -> _Lookups:
    return _Lookups(
        teams={fold(n): i for n, i in session.execute(select(Team.name, Team.id))},
        projects={
            fold(n): (i, t)
            for n, i, t in session.execute(select(Project.name, Project.id, Project.team_id))
        },
        skills=dict(
            session.execute(select(Skill.code, Skill.id).where(Skill.archived.is_(False))).all()
        ),
        users=dict(session.execute(select(User.email, User.id).where(User.active.is_(True))).all()),
        scope=policy.team_scope(session, actor),
        staffable=policy.staffable_ids(session, actor),
    )


def read_rows(text: bytes | str, kind: str) -> list[tuple[int, dict[str, str]]]:
    """(line, values) per data row; raises InvalidInput for a missing header or no rows."""
    if kind not in KINDS:
        raise InvalidInput(f"Unknown kind of file '{kind}'; use one of {', '.join(KINDS)}.")
    try:
        header, found = tabular.records(text, COLUMNS[kind])
    except tabular.CsvUnreadable as exc:
        raise InvalidInput(str(exc)) from None
    missing = [c for c in REQUIRED[kind] if c not in header]
    if missing:
        raise InvalidInput(
            f"The {kind} file needs a header row with the columns {', '.join(COLUMNS[kind])}; "
            f"missing: {', '.join(missing)}."
        )
    rows = [(line, {k: (v or "").strip() for k, v in rec.items() if k}) for line, rec in found]
    if not rows:
        raise InvalidInput("The file has a header but no rows.")
    return rows


def _int(values: dict[str, str], key: str, default: int | None = None) -> int:
    raw = values.get(key, "")
    if not raw and default is not None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{key} must be a whole number, not '{raw}'") from None


def _project(lk: _Lookups, name: str) -> int:
    if fold(name) not in lk.projects:
        raise InvalidInput(f"no project called '{name}'")
    pid, team_id = lk.projects[fold(name)]
    if lk.scope is not None and team_id not in lk.scope:
        raise InvalidInput(f"project '{name}' belongs to a team you do not manage")
    return pid


def _skill(lk: _Lookups, code: str) -> int:
    if code not in lk.skills:
        raise InvalidInput(f"no skill with the code '{code}' (see courses/skills.toml)")
    return lk.skills[code]


Op = Callable[[Session, User], object]


@dataclass(frozen=True)
class BulkRow:
    """A checked row written with the file's other rows in a few statements: ``key`` is the
    existing project's id (None for a new one), or (project, skill) / (project, person)."""

    key: Any
    values: dict[str, Any]


def _parse_project(lk: _Lookups, v: dict[str, str]) -> BulkRow:
    team_id = lk.teams.get(fold(v["team"]))
    if team_id is None:
        raise InvalidInput(f"no team called '{v['team']}'")
    if lk.scope is not None and team_id not in lk.scope:
        raise InvalidInput(f"you do not manage the team '{v['team']}'")
    try:
        start = date.fromisoformat(v["start_date"])
    except ValueError:
        raise InvalidInput(
            f"start_date must be a date like 2026-03-12, not '{v['start_date']}'"
        ) from None
    status = records.parse_status(v.get("status") or "planned")
    existing = lk.projects.get(fold(v["name"]))
    if existing is not None and existing[1] != team_id:
        raise InvalidInput(f"project '{v['name']}' exists in another team")
    desc = v.get("description", "").strip()
    if existing is None:
        lk.projects[fold(v["name"])] = (-1, team_id)  # later rows may name it
    values = {
        "name": v["name"].strip(),
        "team_id": team_id,
        "start_date": start,
        "description": desc,
        "status": status,
    }
    return BulkRow(existing[0] if existing else None, values)


def _parse_requirement(lk: _Lookups, v: dict[str, str]) -> BulkRow:
    pid, skill = _project(lk, v["project"]), _skill(lk, v["skill"])
    level, heads = _int(v, "min_level"), _int(v, "headcount", 1)
    imp, alloc = _int(v, "importance", 3), _int(v, "allocation_pct", 100)
    for label, value, low, high in (
        ("min_level", level, 1, 5),
        ("headcount", heads, 1, 100),
        ("importance", imp, 1, 5),
        ("allocation_pct", alloc, 1, 100),
    ):
        if not low <= value <= high:
            raise InvalidInput(f"{label} must be between {low} and {high}, not {value}")
    if pid < 0:
        raise InvalidInput(
            f"project '{v['project']}' is only created by a projects file; import that first"
        )
    values = {"min_level": level, "headcount": heads, "importance": imp, "allocation_pct": alloc}
    return BulkRow((pid, skill), values)


def _parse_assignment(lk: _Lookups, v: dict[str, str]) -> BulkRow:
    pid = _project(lk, v["project"])
    user_id = lk.users.get(v["email"].lower())
    if user_id is None:
        raise InvalidInput(f"no active person with the email '{v['email']}'")
    policy.check_staffable(lk.staffable, user_id, v["email"])
    alloc = _int(v, "allocation_pct", 100)
    if not 1 <= alloc <= 100:
        raise InvalidInput(f"allocation_pct must be between 1 and 100, not {alloc}")
    return BulkRow((pid, user_id), {"allocation_pct": alloc})


def _parse_profile(lk: _Lookups, v: dict[str, str]) -> Op:
    skill, level = _skill(lk, v["skill"]), _int(v, "level")
    if not 1 <= level <= 5:
        raise InvalidInput(f"level must be between 1 and 5, not {level}")
    name = v["profile"]

    def apply(s: Session, a: User) -> None:
        profile = s.scalar(select(RoleProfile).where(RoleProfile.name == name))
        if profile is None:
            profile = profiles.save_profile(s, actor=a, name=name)
        profiles.set_profile_target(s, actor=a, profile_id=profile.id, skill_id=skill, level=level)

    return apply


PARSERS: dict[str, Callable[[_Lookups, dict[str, str]], Op | BulkRow]] = {
    "projects": _parse_project,
    "requirements": _parse_requirement,
    "assignments": _parse_assignment,
    "profiles": _parse_profile,
}


def _check_row(
    kind: str, line: int, values: dict[str, str], seen: dict[tuple[str, ...], int]
) -> None:
    """Every required cell is filled and the row's key does not repeat an earlier row's."""
    empty = [c for c in REQUIRED[kind] if not values.get(c)]
    if empty:
        raise InvalidInput(f"empty {', '.join(empty)}")
    wrong = tabular.too_long(values, LIMITS)
    if wrong:
        raise InvalidInput(wrong)
    key_columns = REQUIRED[kind][:1] if kind == "projects" else REQUIRED[kind][:2]
    key = tuple(fold(values[c]) for c in key_columns)
    if key in seen:
        raise InvalidInput(f"{', '.join(key)} appears again (first on line {seen[key]})")
    seen[key] = line


def check_csv(
    session: Session, text: bytes | str, kind: str, *, actor: User
) -> tuple[list[tuple[int, Op | BulkRow]], list[tuple[int, str]]]:
    """Every row of a CSV file of ``kind`` checked, nothing written: the operations that would
    apply the good rows, and (line, message) for each bad one. Raises InvalidInput when the file
    as a whole cannot be read (its encoding, header, or a kind the actor may not import)."""
    rows = read_rows(text, kind)
    lk = _lookups(session, actor)
    if kind == "profiles" and lk.scope == set():
        raise InvalidInput("Only managers and admins can import role profiles.")
    ops: list[tuple[int, Op | BulkRow]] = []
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[str, ...], int] = {}
    for line, values in rows:
        try:
            _check_row(kind, line, values, seen)
            ops.append((line, PARSERS[kind](lk, values)))
        except DomainError as exc:
            errors.append((line, exc.message))
    return ops, errors


def import_csv(session: Session, text: bytes | str, kind: str, *, actor: User) -> ImportResult:
    """Check every row of a CSV file of ``kind``, then apply them all; the caller commits.

    Raises InvalidInput for a bad header and RowErrors (nothing stored) for bad rows.
    """
    ops, errors = check_csv(session, text, kind, actor=actor)
    if errors:
        raise RowErrors(errors)
    bulk = [op for _, op in ops if isinstance(op, BulkRow)]
    if bulk:
        counts = WRITERS[kind](session, bulk)
    else:
        counts = {}
        for line, op in ops:
            try:
                op(session, actor)  # type: ignore[operator]
            except DomainError as exc:
                raise RowErrors([(line, exc.message)]) from exc
    audit.record(
        session,
        actor=actor,
        action=f"staffing.import.{kind}",
        target_type="csv",
        target_id=None,
        rows=len(ops),
        **counts,
    )
    session.flush()
    return ImportResult(kind, len(ops))


# --- bulk writes: a few statements a file, no query per row -------------------------------------


def _write_projects(session: Session, rows: list[BulkRow]) -> dict[str, int]:
    new = [r.values for r in rows if r.key is None]
    changed = [{"id": r.key, **r.values} for r in rows if r.key is not None]
    if new:
        session.execute(Project.__table__.insert(), new)
    if changed:
        session.execute(update(Project), changed)
    return {"created": len(new), "updated": len(changed)}


def _write_keyed(session: Session, rows: list[BulkRow], model: Any, second: Any) -> dict[str, int]:
    """Requirements (project, skill) or assignments (project, person): insert the new keys,
    update the existing ones, each in one statement."""
    projects = sorted({r.key[0] for r in rows})
    existing: dict[tuple[int, int], int] = {}
    for chunk in chunks(projects):
        for row_id, project_id, other in session.execute(
            select(model.id, model.project_id, second).where(model.project_id.in_(chunk))
        ):
            existing[(project_id, other)] = row_id
    name = second.key
    new = [
        {"project_id": r.key[0], name: r.key[1], **r.values} for r in rows if r.key not in existing
    ]
    changed = [{"id": existing[r.key], **r.values} for r in rows if r.key in existing]
    if new:
        session.execute(model.__table__.insert(), new)
    if changed:
        session.execute(update(model), changed)
    return {"created": len(new), "updated": len(changed)}


WRITERS: dict[str, Callable[[Session, list[BulkRow]], dict[str, int]]] = {
    "projects": _write_projects,
    "requirements": lambda s, rows: _write_keyed(
        s, rows, ProjectRequirement, ProjectRequirement.skill_id
    ),
    "assignments": lambda s, rows: _write_keyed(
        s, rows, ProjectAssignment, ProjectAssignment.user_id
    ),
}
