"""Read models for the catalog pages: workshop cards, a workshop's notebooks, one notebook.

A handful of set-based queries per page (no per-workshop queries); filtering happens over the
loaded cards, as a catalog holds tens of workshops, not thousands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import aliased

from webapp.db import Session
from webapp.models import (
    Notebook,
    NotebookVersion,
    Skill,
    SkillCategory,
    Workshop,
    WorkshopPrerequisite,
    WorkshopProgress,
    WorkshopSkill,
    WorkshopSkillPrerequisite,
)
from webapp.services.errors import NotFound
from webapp.services.rows import labelled, row_into, rows_into
from webapp.services.skills.levels import current_levels


@dataclass(frozen=True)
class SkillTag:
    code: str
    name: str
    category_code: str
    category_name: str
    level: int


@dataclass(frozen=True)
class Prerequisite:
    """A workshop to pass or a skill level to hold first, and whether the viewer has it."""

    label: str
    met: bool
    detail: str
    workshop_slug: str | None = None


@dataclass(frozen=True)
class Progress:
    attempts: int
    best_score: float
    passed_at: datetime | None


@dataclass(frozen=True)
class WorkshopCard:
    id: int
    slug: str
    title: str
    summary: str
    proves: str
    hours: float
    difficulty: str
    pass_threshold: float
    archived: bool
    skills: tuple[SkillTag, ...]
    prerequisites: tuple[Prerequisite, ...]
    progress: Progress | None
    notebook_count: int

    @property
    def unmet(self) -> list[Prerequisite]:
        return [p for p in self.prerequisites if not p.met]

    def matches(self, filters: CatalogFilter) -> bool:
        tags = [t for t in self.skills if not filters.skill or t.code == filters.skill]
        tags = [t for t in tags if not filters.category or t.category_code == filters.category]
        tags = [t for t in tags if not filters.level or t.level == filters.level]
        if not tags:
            return False
        if not filters.query:
            return True
        words = [self.title, self.summary, self.proves, *(t.name for t in self.skills)]
        return filters.query.casefold() in " ".join(words).casefold()


@dataclass(frozen=True)
class CatalogFilter:
    skill: str = ""
    category: str = ""
    level: int | None = None
    query: str = ""


@dataclass(frozen=True)
class NotebookSummary:
    id: int
    title: str
    filename: str
    version_id: int
    content_hash: str
    max_points: float


@dataclass(frozen=True)
class WorkshopPage:
    card: WorkshopCard
    notebooks: tuple[NotebookSummary, ...]

    @property
    def max_points(self) -> float:
        return sum(n.max_points for n in self.notebooks)


def list_workshops(
    session: Session, *, viewer_id: int, filters: CatalogFilter | None = None
) -> list[WorkshopCard]:
    """The catalog's live workshops as the viewer sees them (prerequisites met, progress)."""
    rows = session.scalars(
        select(Workshop).where(Workshop.archived.is_(False)).order_by(Workshop.title)
    ).all()
    cards = _cards(session, rows, viewer_id)
    return [c for c in cards if c.matches(filters)] if filters else cards


def workshop_page(session: Session, *, slug: str, viewer_id: int) -> WorkshopPage:
    """A workshop with its notebooks and their exercises; raises NotFound."""
    workshop = session.scalar(select(Workshop).where(Workshop.slug == slug))
    if workshop is None:
        raise NotFound("No workshop has that name. Pick one from the catalog.")
    card = _cards(session, [workshop], viewer_id)[0]
    return WorkshopPage(card, tuple(_notebook_summaries(session, workshop.id)))


def filter_options(session: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(skills, categories) used by live workshops, as (code, name) pairs for the filter form."""
    live = (
        select(WorkshopSkill.skill_id)
        .join(Workshop, Workshop.id == WorkshopSkill.workshop_id)
        .where(Workshop.archived.is_(False))
    )
    query = (
        select(Skill.code, Skill.name, SkillCategory.code, SkillCategory.name)
        .join(SkillCategory, SkillCategory.id == Skill.category_id)
        .where(Skill.id.in_(live))
        .order_by(Skill.name)
    )
    rows = session.execute(query).all()
    skills = [(r[0], r[1]) for r in rows]
    categories = sorted({(r[2], r[3]) for r in rows}, key=lambda c: c[1])
    return skills, categories


# --- loading cards --------------------------------------------------------------------------------


def _cards(session: Session, workshops: Collection[Workshop], viewer_id: int) -> list[WorkshopCard]:
    ids = [w.id for w in workshops]
    skills = _skill_tags(session, ids)
    progress = _progress(session, viewer_id)
    prereqs = _prerequisites(session, ids, viewer_id, progress)
    counts = _notebook_counts(session, ids)
    return [
        WorkshopCard(
            id=w.id,
            slug=w.slug,
            title=w.title,
            summary=w.summary,
            proves=w.proves,
            hours=w.hours,
            difficulty=w.difficulty,
            pass_threshold=w.pass_threshold,
            archived=w.archived,
            skills=tuple(skills[w.id]),
            prerequisites=tuple(prereqs[w.id]),
            progress=progress.get(w.id),
            notebook_count=counts.get(w.id, 0),
        )
        for w in workshops
    ]


def _skill_tags(session: Session, ids: list[int]) -> dict[int, list[SkillTag]]:
    query = (
        select(
            WorkshopSkill.workshop_id,
            *labelled(
                SkillTag,
                code=Skill.code,
                name=Skill.name,
                category_code=SkillCategory.code,
                category_name=SkillCategory.name,
                level=WorkshopSkill.level,
            ),
        )
        .join(Skill, Skill.id == WorkshopSkill.skill_id)
        .join(SkillCategory, SkillCategory.id == Skill.category_id)
        .where(WorkshopSkill.workshop_id.in_(ids))
        .order_by(Skill.name)
    )
    tags: dict[int, list[SkillTag]] = defaultdict(list)
    for row in session.execute(query):
        tags[row.workshop_id].append(row_into(SkillTag, row))
    return tags


def _progress(session: Session, viewer_id: int) -> dict[int, Progress]:
    query = select(
        WorkshopProgress.workshop_id,
        *labelled(
            Progress,
            attempts=WorkshopProgress.attempts,
            best_score=WorkshopProgress.best_score,
            passed_at=WorkshopProgress.passed_at,
        ),
    ).where(WorkshopProgress.user_id == viewer_id)
    return {row.workshop_id: row_into(Progress, row) for row in session.execute(query)}


def _prerequisites(
    session: Session, ids: list[int], viewer_id: int, progress: dict[int, Progress]
) -> dict[int, list[Prerequisite]]:
    found: dict[int, list[Prerequisite]] = defaultdict(list)
    required = aliased(Workshop)
    query = (
        select(WorkshopPrerequisite.workshop_id, required.id, required.slug, required.title)
        .join(required, required.id == WorkshopPrerequisite.required_id)
        .where(WorkshopPrerequisite.workshop_id.in_(ids))
        .order_by(required.title)
    )
    for wid, rid, slug, title in session.execute(query):
        met = rid in progress and progress[rid].passed_at is not None
        detail = "passed" if met else "not passed yet"
        found[wid].append(Prerequisite(f"Workshop: {title}", met, detail, slug))
    skill_query = (
        select(
            WorkshopSkillPrerequisite.workshop_id,
            Skill.id,
            Skill.name,
            WorkshopSkillPrerequisite.level,
        )
        .join(Skill, Skill.id == WorkshopSkillPrerequisite.skill_id)
        .where(WorkshopSkillPrerequisite.workshop_id.in_(ids))
        .order_by(Skill.name)
    )
    skill_rows = session.execute(skill_query).all()
    levels = _viewer_levels(session, viewer_id) if skill_rows else {}
    for wid, skill_id, name, level in skill_rows:
        have = levels.get(skill_id)
        detail = f"you are at level {have}" if have else "no level recorded for you yet"
        found[wid].append(Prerequisite(f"{name} level {level}", (have or 0) >= level, detail))
    return found


def _viewer_levels(session: Session, viewer_id: int) -> dict[int, int]:
    found = current_levels(session, user_ids=[viewer_id])
    return {skill_id: level for (_uid, skill_id), level in found.items()}


def _notebook_counts(session: Session, ids: list[int]) -> dict[int, int]:
    query = (
        select(Notebook.workshop_id, func.count(Notebook.id))
        .where(Notebook.workshop_id.in_(ids), Notebook.archived.is_(False))
        .group_by(Notebook.workshop_id)
    )
    return {wid: n for wid, n in session.execute(query)}


# --- notebooks ------------------------------------------------------------------------------------


def _notebook_summaries(session: Session, workshop_id: int) -> list[NotebookSummary]:
    """Live notebooks at their current version, in order (their exercises, with the viewer's
    state of each, come from ``learning.exercises.notebook_states``)."""
    query = (
        select(
            *labelled(
                NotebookSummary,
                id=Notebook.id,
                title=Notebook.title,
                filename=Notebook.filename,
                version_id=NotebookVersion.id,
                content_hash=NotebookVersion.content_hash,
                max_points=NotebookVersion.max_points,
            )
        )
        .join(
            NotebookVersion,
            (NotebookVersion.notebook_id == Notebook.id)
            & (NotebookVersion.content_hash == Notebook.current_hash),
        )
        .where(Notebook.workshop_id == workshop_id, Notebook.archived.is_(False))
        .order_by(Notebook.position)
    )
    return rows_into(NotebookSummary, session.execute(query))


@dataclass(frozen=True)
class NotebookRef:
    """What a notebook page needs, without the notebook's JSON (loaded only to render)."""

    workshop_slug: str
    workshop_title: str
    workshop_archived: bool
    notebook_id: int
    title: str
    filename: str
    version_id: int
    content_hash: str
    max_points: float


# Built once: the notebook page runs this on every view, and building a select() costs more than
# running it (SQLAlchemy caches the compiled SQL, not the Python expression).
_NOTEBOOK_REF = (
    select(
        *labelled(
            NotebookRef,
            workshop_slug=Workshop.slug,
            workshop_title=Workshop.title,
            workshop_archived=Workshop.archived,
            notebook_id=Notebook.id,
            title=Notebook.title,
            filename=Notebook.filename,
            version_id=NotebookVersion.id,
            content_hash=NotebookVersion.content_hash,
            max_points=NotebookVersion.max_points,
        )
    )
    .join(Workshop, Workshop.id == Notebook.workshop_id)
    .join(
        NotebookVersion,
        (NotebookVersion.notebook_id == Notebook.id)
        & (NotebookVersion.content_hash == Notebook.current_hash),
    )
    .where(
        Notebook.id == bindparam("notebook_id"),
        Workshop.slug == bindparam("slug"),
        Notebook.archived.is_(False),
    )
)


def notebook_ref(session: Session, *, slug: str, notebook_id: int) -> NotebookRef:
    """The notebook ``notebook_id`` of workshop ``slug`` at its current version; raises NotFound."""
    row = session.execute(_NOTEBOOK_REF, {"notebook_id": notebook_id, "slug": slug}).first()
    if row is None:
        raise NotFound("No such notebook in this workshop; open the workshop to see its notebooks.")
    return row_into(NotebookRef, row)


def version_json(session: Session, version_id: int, *, which: str = "student") -> dict[str, Any]:
    """The stored student (or ``source``) notebook of a version, as nbformat 4 JSON."""
    column = NotebookVersion.source if which == "source" else NotebookVersion.student
    value = session.scalar(select(column).where(NotebookVersion.id == version_id))
    if value is None:
        raise NotFound("That notebook version does not exist.")
    return dict(value)
