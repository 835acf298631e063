"""The skill taxonomy from courses/skills.toml: parsing with every problem reported, and syncing."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from webapp.db import Session
from webapp.models import ProficiencyLevel, Skill, SkillCategory


@dataclass(frozen=True)
class LevelDef:
    level: int
    name: str
    descriptor: str


@dataclass(frozen=True)
class SkillDef:
    code: str
    name: str
    category: str
    description: str
    sfia: str | None


@dataclass(frozen=True)
class Taxonomy:
    levels: tuple[LevelDef, ...]
    categories: dict[str, str]  # code -> name
    skills: tuple[SkillDef, ...]

    @property
    def skill_codes(self) -> set[str]:
        return {s.code for s in self.skills}


def load_taxonomy(path: Path) -> tuple[Taxonomy | None, list[str]]:
    """Read skills.toml; returns the taxonomy, or None with every problem found."""
    name = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, [f"{path}: file is missing"]
    except tomllib.TOMLDecodeError as exc:
        return None, [f"{name}: not valid TOML: {exc}"]
    problems: list[str] = []
    levels = _levels(data.get("level", []), name, problems)
    categories = {str(c.get("code", "")): str(c.get("name", "")) for c in data.get("category", [])}
    skills = _skills(data.get("skill", []), categories, name, problems)
    if problems:
        return None, problems
    return Taxonomy(tuple(levels), categories, tuple(skills)), []


def _levels(raw: list[dict[str, Any]], name: str, problems: list[str]) -> list[LevelDef]:
    levels = []
    for i, entry in enumerate(raw, 1):
        try:
            levels.append(
                LevelDef(int(entry["level"]), str(entry["name"]), str(entry["descriptor"]))
            )
        except (KeyError, TypeError, ValueError):
            problems.append(f"{name}: [[level]] #{i} needs level, name and descriptor")
    if sorted(lv.level for lv in levels) != [1, 2, 3, 4, 5] and not problems:
        problems.append(f"{name}: the scale must define levels 1 to 5 exactly once each")
    return levels


def _skills(
    raw: list[dict[str, Any]], categories: dict[str, str], name: str, problems: list[str]
) -> list[SkillDef]:
    skills, seen = [], set()
    for i, entry in enumerate(raw, 1):
        code = str(entry.get("code", "")).strip()
        where = f"{name}: skill '{code}'" if code else f"{name}: [[skill]] #{i}"
        if not code or not entry.get("name"):
            problems.append(f"{where} needs a code and a name")
            continue
        if code in seen:
            problems.append(f"{where} is defined twice")
        if entry.get("category") not in categories:
            problems.append(f"{where} has unknown category '{entry.get('category')}'")
        seen.add(code)
        skills.append(
            SkillDef(
                code,
                str(entry["name"]),
                str(entry.get("category")),
                str(entry.get("description", "")),
                entry.get("sfia"),
            )
        )
    return skills


def sync_taxonomy(session: Session, taxonomy: Taxonomy) -> dict[str, int]:
    """Upsert levels, categories and skills; skills gone from the file are archived, not deleted."""
    for lv in taxonomy.levels:
        session.merge(ProficiencyLevel(level=lv.level, name=lv.name, descriptor=lv.descriptor))
    cats = {c.code: c for c in session.scalars(select(SkillCategory))}
    for code, cname in taxonomy.categories.items():
        cat = cats.get(code) or SkillCategory(code=code)
        cat.name = cname
        session.add(cat)
        cats[code] = cat
    session.flush()
    existing = {s.code: s for s in session.scalars(select(Skill))}
    for sd in taxonomy.skills:
        skill = existing.pop(sd.code, None) or Skill(code=sd.code)
        skill.name, skill.description, skill.sfia_code = sd.name, sd.description, sd.sfia
        skill.category, skill.archived = cats[sd.category], False
        session.add(skill)
    for gone in existing.values():
        gone.archived = True
    session.flush()
    return {"skills": len(taxonomy.skills), "archived": len(existing)}
