"""The workshop catalog in the database: syncing it from courses/ in one transaction.

``sync_catalog`` validates everything first (see ``catalog_source``) and writes either all of it
or none of it; each run is logged as a ``CatalogSync`` row. Notebook versions are identified by
their content hash: a changed notebook becomes a new version and older versions stay for the
submissions that point at them. Workshops and notebooks gone from disk are archived, not deleted.
Page queries live in ``catalog_pages``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from webapp.db import Session
from webapp.grading.wellformed import DEFAULT_LIMITS, NotebookLimits
from webapp.models import (
    CatalogSync,
    Exercise,
    Notebook,
    NotebookVersion,
    Skill,
    User,
    Workshop,
    WorkshopPrerequisite,
    WorkshopSkill,
    WorkshopSkillPrerequisite,
)
from webapp.services import audit
from webapp.services.catalog import worked
from webapp.services.catalog.source import (
    CatalogSource,
    CourseSource,
    NotebookSource,
    load_catalog,
    to_json,
)
from webapp.services.catalog.taxonomy import sync_taxonomy
from webapp.services.rows import labelled, rows_into
from webapp.services.words import count


@dataclass
class SyncCounts:
    workshops: int = 0
    new_workshops: int = 0
    archived_workshops: int = 0
    notebooks: int = 0
    new_versions: int = 0
    new_version_ids: list[int] = field(default_factory=list)
    worked_queued: int = 0  # notebook contents whose worked examples' outputs are to be made

    def summary(self) -> str:
        return (
            f"{count(self.workshops, 'workshop')} ({self.new_workshops} new, "
            f"{self.archived_workshops} archived), {count(self.notebooks, 'notebook')}, "
            f"{count(self.new_versions, 'new notebook version')}"
        )


@dataclass(frozen=True)
class SyncResult:
    ok: bool
    problems: tuple[str, ...]
    counts: SyncCounts
    record: CatalogSync

    @property
    def summary(self) -> str:
        return self.record.summary


def sync_catalog(
    session: Session,
    root: Path,
    *,
    actor: User | None,
    limits: NotebookLimits = DEFAULT_LIMITS,
    archive_all: bool = False,
) -> SyncResult:
    """Validate ``root`` (the courses folder) and write the whole catalog, or nothing of it; a
    notebook over ``limits`` is a problem naming its file and cell. A folder without any workshop
    would archive every live one (a wrong COURSES_PATH, an unmounted disk): that is refused as a
    problem unless ``archive_all``.

    The run is always logged as a CatalogSync row (with its problems when it fails), so the caller
    commits in both cases: on failure only that log row is written. Never raises for bad sources.
    """
    catalog, problems = load_catalog(root, limits)
    if catalog is not None and not catalog.courses and not archive_all:
        live = session.scalar(select(func.count(Workshop.id)).where(Workshop.archived.is_(False)))
        if live:
            problems = [
                f"{root} holds no workshop, so syncing it would archive all "
                f"{count(int(live), 'live workshop')}. Check the courses folder (COURSES_PATH); "
                "to archive them all on purpose, run `skillforge courses sync --archive-all`."
            ]
            catalog = None
    counts = SyncCounts()
    if catalog is None:
        summary = f"Nothing synced: {count(len(problems), 'problem')} in {root}."
    else:
        counts = _write_catalog(session, catalog)
        counts.worked_queued = len(
            worked.request(session, worked.current_hashes(session), now=datetime.now(UTC))
        )
        summary = f"Synced {counts.summary()}."
    record = CatalogSync(
        ok=catalog is not None, summary=summary, problems=problems, actor_id=_id(actor)
    )
    session.add(record)
    session.flush()
    if actor is not None:
        audit.record(
            session,
            actor=actor,
            action="catalog.sync",
            target_type="catalog_sync",
            target_id=record.id,
            ok=record.ok,
            summary=summary,
        )
    return SyncResult(catalog is not None, tuple(problems), counts, record)


def _id(user: User | None) -> int | None:
    return user.id if user is not None else None


def _write_catalog(session: Session, catalog: CatalogSource) -> SyncCounts:
    sync_taxonomy(session, catalog.taxonomy)
    skill_ids = {code: sid for code, sid in session.execute(select(Skill.code, Skill.id))}
    existing = {w.slug: w for w in session.scalars(select(Workshop))}
    counts = SyncCounts()
    workshops: dict[str, Workshop] = {}
    for course in catalog.courses:
        workshop = existing.pop(course.slug, None)
        if workshop is None:
            workshop = Workshop(slug=course.slug)
            session.add(workshop)
            counts.new_workshops += 1
        _write_workshop(workshop, course, skill_ids)
        workshops[course.slug] = workshop
    session.flush()
    for course in catalog.courses:
        _write_prerequisites(session, workshops[course.slug], course, workshops)
        _write_notebooks(session, workshops[course.slug], course, skill_ids, counts)
    for gone in existing.values():
        if not gone.archived:
            gone.archived = True
            counts.archived_workshops += 1
    counts.workshops = len(catalog.courses)
    session.flush()
    return counts


def _assign(obj: object, **values: object) -> None:
    """Set only the attributes that change, so an unchanged row is not rewritten (idempotence)."""
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)


def _write_workshop(workshop: Workshop, course: CourseSource, skill_ids: dict[str, int]) -> None:
    _assign(
        workshop,
        title=course.title,
        summary=course.summary,
        proves=course.proves,
        hours=course.hours,
        difficulty=course.difficulty,
        pass_threshold=course.pass_threshold,
        archived=False,
    )
    current = {ws.skill_id: ws for ws in workshop.skills}
    wanted = {skill_ids[code]: level for code, level in course.skills.items()}
    for skill_id, ws in current.items():
        if skill_id not in wanted:
            workshop.skills.remove(ws)
    for skill_id, level in wanted.items():
        if skill_id in current:
            _assign(current[skill_id], level=level)
        else:
            workshop.skills.append(WorkshopSkill(skill_id=skill_id, level=level))
    current_pre = {sp.skill_id: sp for sp in workshop.skill_prerequisites}
    wanted_pre = {skill_ids[code]: lv for code, lv in course.prerequisite_skills.items()}
    for skill_id, sp in current_pre.items():
        if skill_id not in wanted_pre:
            workshop.skill_prerequisites.remove(sp)
    for skill_id, level in wanted_pre.items():
        if skill_id in current_pre:
            _assign(current_pre[skill_id], level=level)
        else:
            workshop.skill_prerequisites.append(
                WorkshopSkillPrerequisite(skill_id=skill_id, level=level)
            )


def _write_prerequisites(
    session: Session, workshop: Workshop, course: CourseSource, workshops: dict[str, Workshop]
) -> None:
    wanted = {workshops[slug].id for slug in course.prerequisite_workshops}
    for pre in list(workshop.prerequisites):
        if pre.required_id not in wanted:
            workshop.prerequisites.remove(pre)
    have = {pre.required_id for pre in workshop.prerequisites}
    for required_id in sorted(wanted - have):
        workshop.prerequisites.append(WorkshopPrerequisite(required_id=required_id))


def _write_notebooks(
    session: Session,
    workshop: Workshop,
    course: CourseSource,
    skill_ids: dict[str, int],
    counts: SyncCounts,
) -> None:
    existing = {nb.filename: nb for nb in workshop.notebooks}
    default_skill = skill_ids[next(iter(course.skills))]
    for source in course.notebooks:
        notebook = existing.pop(source.filename, None)
        if notebook is None:
            notebook = Notebook(workshop=workshop, filename=source.filename)
            session.add(notebook)
        _assign(
            notebook,
            title=source.title,
            position=source.position,
            current_hash=source.content_hash,
            archived=False,
        )
        session.flush()
        _ensure_version(session, notebook, source, skill_ids, default_skill, counts)
        counts.notebooks += 1
    for gone in existing.values():
        _assign(gone, archived=True)


def _ensure_version(
    session: Session,
    notebook: Notebook,
    source: NotebookSource,
    skill_ids: dict[str, int],
    default_skill: int,
    counts: SyncCounts,
) -> None:
    """Add the version for the notebook's content hash unless it exists already."""
    found = session.scalar(
        select(NotebookVersion.id).where(
            NotebookVersion.notebook_id == notebook.id,
            NotebookVersion.content_hash == source.content_hash,
        )
    )
    if found is not None:
        return
    version = NotebookVersion(
        notebook_id=notebook.id,
        content_hash=source.content_hash,
        source=to_json(source.source),
        student=to_json(source.student),
        max_points=source.max_points,
    )
    version.exercises = [
        Exercise(
            grade_id=ex.grade_id,
            cell_index=ex.cell_index,
            kind=ex.kind,
            points=ex.points,
            # An exercise without its own skill evidences the workshop's first skill.
            skill_id=skill_ids[ex.skill] if ex.skill else default_skill,
        )
        for ex in source.exercises
    ]
    session.add(version)
    session.flush()
    counts.new_versions += 1
    counts.new_version_ids.append(version.id)


def last_syncs(session: Session, *, limit: int = 10) -> list[CatalogSync]:
    """The most recent sync runs, newest first."""
    query = select(CatalogSync).order_by(CatalogSync.started_at.desc(), CatalogSync.id.desc())
    return list(session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class WorkshopStatus:
    slug: str
    title: str
    archived: bool
    notebooks: int
    versions: int


def catalog_status(session: Session) -> list[WorkshopStatus]:
    """Every workshop, archived ones included, with its live notebooks and stored versions."""
    live_notebooks = func.count(func.distinct(Notebook.id)).filter(Notebook.archived.is_(False))
    query = (
        select(
            *labelled(
                WorkshopStatus,
                slug=Workshop.slug,
                title=Workshop.title,
                archived=Workshop.archived,
                notebooks=live_notebooks,
                versions=func.count(NotebookVersion.id),
            )
        )
        .outerjoin(Notebook, Notebook.workshop_id == Workshop.id)
        .outerjoin(NotebookVersion, NotebookVersion.notebook_id == Notebook.id)
        .group_by(Workshop.id, Workshop.slug, Workshop.title, Workshop.archived)
        .order_by(Workshop.archived, Workshop.title)
    )
    return rows_into(WorkshopStatus, session.execute(query))
