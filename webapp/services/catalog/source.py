"""Workshop sources on disk (courses/): parsing and validating everything, reporting every problem.

Pure functions over files: nothing here touches the database. ``load_catalog`` returns either a
complete, valid :class:`CatalogSource` or ``None`` with every problem found, each naming its file
(relative to the courses folder) and, for notebooks, its cell.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from nbformat import NotebookNode

from webapp.grading.notebook import (
    Exercise,
    InvalidNotebook,
    content_hash,
    exercises,
    read_notebook,
    student_version,
)
from webapp.grading.validation import validate_source
from webapp.grading.wellformed import DEFAULT_LIMITS, NotebookLimits
from webapp.models.catalog import DIFFICULTY_VALUES
from webapp.services.catalog.taxonomy import Taxonomy, load_taxonomy

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
MAX_NOTEBOOKS = 3
COURSE_KEYS = {
    "title",
    "summary",
    "proves",
    "hours",
    "difficulty",
    "pass_threshold",
    "notebooks",
    "skills",
    "prerequisites",
}
PREREQUISITE_KEYS = {"workshops", "skills"}


@dataclass(frozen=True)
class NotebookSource:
    """One validated source notebook, with its student version and content hash."""

    filename: str
    title: str
    position: int
    source: NotebookNode
    student: NotebookNode
    content_hash: str
    exercises: tuple[Exercise, ...]

    @property
    def max_points(self) -> float:
        return sum(ex.points for ex in self.exercises)


@dataclass(frozen=True)
class CourseSource:
    """One validated workshop folder."""

    slug: str
    title: str
    summary: str
    proves: str
    hours: float
    difficulty: str
    pass_threshold: float
    skills: dict[str, int]  # skill code -> level proved, in file order (the first is the default)
    prerequisite_workshops: tuple[str, ...]
    prerequisite_skills: dict[str, int]
    notebooks: tuple[NotebookSource, ...]
    folder: Path


@dataclass(frozen=True)
class CatalogSource:
    taxonomy: Taxonomy
    courses: tuple[CourseSource, ...]


def load_catalog(
    root: Path, limits: NotebookLimits = DEFAULT_LIMITS
) -> tuple[CatalogSource | None, list[str]]:
    """Read and validate skills.toml and every workshop folder under ``root``, each notebook
    held to ``limits`` (NOTEBOOK_MAX_*).

    Returns the catalog and [] when everything is valid, else None and every problem found.
    """
    if not root.is_dir():
        return None, [f"{root}: the courses folder does not exist"]
    taxonomy, problems = load_taxonomy(root / "skills.toml")
    codes = taxonomy.skill_codes if taxonomy else set()
    courses: list[CourseSource] = []
    problems += link_problems(root)
    for folder in course_folders(root):
        course = _load_course(folder, codes, problems, limits)
        if course is not None:
            courses.append(course)
    problems += _prerequisite_problems(courses)
    if problems or taxonomy is None:
        return None, problems
    return CatalogSource(taxonomy, tuple(courses)), []


def link_problems(root: Path) -> list[str]:
    """Every symbolic link under the courses folder (and anything else that is neither a file nor
    a folder), named: course files are copied into the grading sandbox, and a link could reach
    any file of the server (its secret key, say). Links are never followed."""
    problems = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        here = Path(folder)
        for name in sorted(dirs + files):
            path = here / name
            where = path.relative_to(root).as_posix()
            if path.is_symlink():
                problems.append(
                    f"{where}: a symbolic link; copy the file itself into the course folder "
                    "(links are refused: they could reach files outside it)"
                )
            elif not (path.is_dir() or path.is_file()):
                problems.append(f"{where}: neither a file nor a folder; remove it")
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
    return problems


def course_folders(root: Path) -> list[Path]:
    """Workshop folders: subfolders holding a course.toml or notebooks (empty ones are skipped)."""
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if folder.name.startswith((".", "_")):
            continue
        if (folder / "course.toml").exists() or any(folder.glob("*.ipynb")):
            found.append(folder)
    return found


def _load_course(
    folder: Path, codes: set[str], problems: list[str], limits: NotebookLimits
) -> CourseSource | None:
    slug, where = folder.name, f"{folder.name}/course.toml"
    start = len(problems)
    if not SLUG_RE.match(slug):
        problems.append(
            f"{slug}/: the folder name is the workshop's slug: use lowercase letters, digits "
            "and '-' (at most 80 characters)"
        )
    try:
        data = tomllib.loads((folder / "course.toml").read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{where}: file is missing (every workshop folder needs one)")
        return None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(f"{where}: not valid TOML: {exc}")
        return None
    fields = _course_fields(data, codes, where, problems)
    notebooks = _load_notebooks(folder, fields.pop("notebooks"), codes, problems, limits)
    if len(problems) > start:
        return None
    return CourseSource(slug=slug, notebooks=tuple(notebooks), folder=folder, **fields)


def _course_fields(
    data: dict[str, Any], codes: set[str], where: str, problems: list[str]
) -> dict[str, Any]:
    """The course.toml values as CourseSource fields (without notebooks); problems appended."""
    say = problems.append
    for key in sorted(set(data) - COURSE_KEYS):
        say(f"{where}: unknown key '{key}' (known: {', '.join(sorted(COURSE_KEYS))})")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        say(f"{where}: 'title' is missing (a short text)")
    hours = data.get("hours")
    if not _number(hours) or hours <= 0:
        say(f"{where}: 'hours' must be a positive number (estimated learning time)")
    difficulty = data.get("difficulty")
    if difficulty not in DIFFICULTY_VALUES:
        say(f"{where}: 'difficulty' must be one of {', '.join(DIFFICULTY_VALUES)}")
    threshold = data.get("pass_threshold", 0.8)
    if not _number(threshold) or not 0 < threshold <= 1:
        say(f"{where}: 'pass_threshold' must be a share above 0 and at most 1 (e.g. 0.8)")
    for key in ("summary", "proves"):
        if not isinstance(data.get(key, ""), str):
            say(f"{where}: '{key}' must be text")
    prereq = data.get("prerequisites", {})
    if not isinstance(prereq, dict):
        say(f"{where}: [prerequisites] must be a table")
        prereq = {}
    for key in sorted(set(prereq) - PREREQUISITE_KEYS):
        say(f"{where}: unknown key 'prerequisites.{key}' (known: skills, workshops)")
    return {
        "title": str(title or "").strip(),
        "summary": str(data.get("summary", "")).strip(),
        "proves": str(data.get("proves", "")).strip(),
        "hours": float(hours) if _number(hours) else 0.0,
        "difficulty": str(difficulty),
        "pass_threshold": float(threshold) if _number(threshold) else 0.8,
        "skills": _skill_levels(data.get("skills"), codes, f"{where}: [skills]", problems, True),
        "prerequisite_workshops": _slugs(prereq.get("workshops", []), where, problems),
        "prerequisite_skills": _skill_levels(
            prereq.get("skills", {}), codes, f"{where}: prerequisites.skills", problems, False
        ),
        "notebooks": _notebook_names(data.get("notebooks"), where, problems),
    }


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _skill_levels(
    raw: object, codes: set[str], where: str, problems: list[str], required: bool
) -> dict[str, int]:
    if raw is None or (required and raw == {}):
        if required:
            problems.append(f"{where} is missing: name at least one skill a pass verifies")
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{where} must be a table of skill = level")
        return {}
    levels: dict[str, int] = {}
    for code, level in raw.items():
        if code not in codes:
            problems.append(f"{where}: unknown skill '{code}' (not in skills.toml)")
        elif not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5:
            problems.append(f"{where}: level of '{code}' must be a whole number from 1 to 5")
        else:
            levels[code] = level
    return levels


def _slugs(raw: object, where: str, problems: list[str]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        problems.append(f"{where}: prerequisites.workshops must be a list of workshop slugs")
        return ()
    return tuple(dict.fromkeys(raw))


def _notebook_names(raw: object, where: str, problems: list[str]) -> list[str]:
    if not isinstance(raw, list) or not raw or not all(isinstance(n, str) for n in raw):
        problems.append(f"{where}: 'notebooks' must list 1 to {MAX_NOTEBOOKS} .ipynb file names")
        return []
    if len(raw) > MAX_NOTEBOOKS:
        problems.append(f"{where}: at most {MAX_NOTEBOOKS} notebooks per workshop")
    for name in sorted({n for n in raw if raw.count(n) > 1}):
        problems.append(f"{where}: notebook '{name}' is listed twice")
    for name in raw:
        if "/" in name or "\\" in name or not name.endswith(".ipynb"):
            problems.append(f"{where}: '{name}' must be a .ipynb file in the workshop's folder")
    return list(dict.fromkeys(raw))


def _load_notebooks(
    folder: Path, names: list[str], codes: set[str], problems: list[str], limits: NotebookLimits
) -> list[NotebookSource]:
    loaded = []
    for position, name in enumerate(names):
        label = f"{folder.name}/{name}"
        path = folder / name
        if not path.is_file():
            problems.append(f"{label}: listed in course.toml but the file is missing")
            continue
        nb = load_notebook(path, label, codes, problems, limits)
        if nb is not None:
            loaded.append(_notebook_source(nb, name, position))
    return loaded


def load_notebook(
    path: Path,
    label: str,
    codes: set[str],
    problems: list[str],
    limits: NotebookLimits = DEFAULT_LIMITS,
) -> NotebookNode | None:
    """Read and validate one source notebook; None (with problems appended) when unusable."""
    try:
        nb = read_notebook(path.read_bytes(), limits)
    except InvalidNotebook as exc:
        problems.append(f"{label}: {exc}")
        return None
    found = [str(p) for p in validate_source(nb, filename=label)]
    for ex in exercises(nb):
        if ex.skill is not None and ex.skill not in codes:
            found.append(
                f"{label}, cell {ex.cell_index + 1} (grade_id '{ex.grade_id}'): "
                f"unknown skill '{ex.skill}' in metadata.skillforge.skill (not in skills.toml)"
            )
    problems += found
    return None if found else nb


def _notebook_source(nb: NotebookNode, name: str, position: int) -> NotebookSource:
    return NotebookSource(
        filename=name,
        title=notebook_title(nb, name),
        position=position,
        source=nb,
        student=student_version(nb),
        content_hash=content_hash(nb),
        exercises=tuple(exercises(nb)),
    )


def notebook_title(nb: NotebookNode, filename: str) -> str:
    """The first Markdown heading of the notebook, else a title made from the file name."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.split("\n"):
            if line.startswith("#"):
                return line.lstrip("#").strip()[:200] or filename
    stem = Path(filename).stem.lstrip("0123456789-_ ")
    return (stem.replace("-", " ").replace("_", " ").capitalize() or filename)[:200]


def _prerequisite_problems(courses: list[CourseSource]) -> list[str]:
    """Unknown prerequisite workshops and prerequisite cycles among the courses on disk."""
    slugs = {c.slug for c in courses}
    problems = [
        f"{c.slug}/course.toml: prerequisite workshop '{s}' does not exist in courses/"
        for c in courses
        for s in c.prerequisite_workshops
        if s not in slugs
    ]
    graph = {c.slug: [s for s in c.prerequisite_workshops if s in slugs] for c in courses}
    for cycle in _cycles(graph):
        path = " -> ".join([*cycle, cycle[0]])
        problems.append(f"{cycle[0]}/course.toml: prerequisite cycle: {path}")
    return problems


def _cycles(graph: Mapping[str, list[str]]) -> Iterator[list[str]]:
    """Each cycle of the graph once (depth-first search, reported from its smallest slug)."""
    seen_cycles: set[tuple[str, ...]] = set()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> Iterator[list[str]]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :]
                start = cycle.index(min(cycle))
                key = tuple(cycle[start:] + cycle[:start])
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    yield list(key)
            elif nxt not in state:
                yield from visit(nxt, path)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            yield from visit(node, [])


def to_json(nb: NotebookNode) -> dict[str, Any]:
    """A notebook as plain JSON data, for a JSON column."""
    return json.loads(json.dumps(nb))  # type: ignore[no-any-return]
