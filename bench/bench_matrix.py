"""Benchmark the team skill matrix page on PostgreSQL with a large organisation.

Builds (bulk inserts, seeded) 5,000 engineers in 100 teams, 150 skills, ~100,000 evidence rows and
two projects per team, then times GET requests through the app (Flask test client, logged in as a
team's manager) against /healthz as the baseline of the same run. Prints a markdown table.

Run: BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/skills_bench \
     .venv/bin/python -m bench.bench_matrix
The database's tables are dropped and recreated.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, text

from webapp import create_app
from webapp.db import db
from webapp.models import (
    Notebook,
    NotebookVersion,
    ProficiencyLevel,
    Project,
    ProjectRequirement,
    Skill,
    SkillCategory,
    SkillEvidence,
    Submission,
    Team,
    TeamMembership,
    User,
    Workshop,
)
from webapp.services.people import passwords

N_TEAMS, TEAM_SIZE, N_SKILLS, EVIDENCE_PER_ENGINEER = 100, 50, 150, 20
PASSWORD = "bench-password-123"  # noqa: S105 (a throwaway benchmark account)
NOW = datetime.now(UTC)


def _ids(model: type, column: str = "id") -> list[int]:
    return list(db.session.scalars(select(getattr(model, column)).order_by(model.id)))


def build_org(rng: random.Random) -> int:
    """Insert the organisation; returns the id of the first team."""
    db.session.execute(
        insert(ProficiencyLevel),
        [{"level": n, "name": f"L{n}", "descriptor": f"Level {n}"} for n in range(1, 6)],
    )
    db.session.execute(
        insert(SkillCategory), [{"code": f"c{i}", "name": f"Category {i}"} for i in range(10)]
    )
    cats = _ids(SkillCategory)
    db.session.execute(
        insert(Skill),
        [
            {"code": f"s{i}", "name": f"Skill {i:03d}", "category_id": cats[i % 10]}
            for i in range(N_SKILLS)
        ],
    )
    skills = _ids(Skill)
    db.session.execute(insert(Team), [{"name": f"Team {t:03d}"} for t in range(N_TEAMS)])
    teams = _ids(Team)
    pw = passwords.hash_password(PASSWORD)
    users = [
        {"email": f"e{i}@bench.test", "display_name": f"Engineer {i:05d}", "password_hash": pw}
        for i in range(N_TEAMS * TEAM_SIZE)
    ]
    users += [
        {"email": f"m{t}@bench.test", "display_name": f"Manager {t}", "password_hash": pw,
         "role": "manager"}
        for t in range(N_TEAMS)
    ]  # fmt: skip
    db.session.execute(insert(User), users)
    user_ids = _ids(User)
    engineers, managers = user_ids[: N_TEAMS * TEAM_SIZE], user_ids[N_TEAMS * TEAM_SIZE :]
    members = [
        {"team_id": teams[i // TEAM_SIZE], "user_id": u, "is_manager": False}
        for i, u in enumerate(engineers)
    ]
    members += [
        {"team_id": t, "user_id": m, "is_manager": True}
        for t, m in zip(teams, managers, strict=True)
    ]
    db.session.execute(insert(TeamMembership), members)
    _projects(rng, teams, skills)
    _evidence(rng, engineers, managers, skills)
    db.session.commit()
    return teams[0]


def _projects(rng: random.Random, teams: list[int], skills: list[int]) -> None:
    start = date.today() + timedelta(weeks=8)
    db.session.execute(
        insert(Project),
        [
            {"name": f"Project {t}-{k}", "team_id": t, "start_date": start}
            for t in teams
            for k in (1, 2)
        ],
    )
    db.session.execute(
        insert(ProjectRequirement),
        [
            {"project_id": p, "skill_id": s, "min_level": rng.randint(2, 4), "headcount": 2}
            for p in _ids(Project)
            for s in rng.sample(skills, 4)
        ],
    )


def _evidence(
    rng: random.Random, engineers: list[int], managers: list[int], skills: list[int]
) -> None:
    shop = Workshop(slug="bench", title="Bench", hours=2.0, difficulty="introductory")
    db.session.add(shop)
    db.session.flush()
    notebook = Notebook(workshop_id=shop.id, filename="b.ipynb", title="B")
    db.session.add(notebook)
    db.session.flush()
    version = NotebookVersion(notebook_id=notebook.id, content_hash="b", source={}, student={})
    db.session.add(version)
    db.session.flush()
    rows, verified = [], []
    for i, user in enumerate(engineers):
        for skill in rng.sample(skills, EVIDENCE_PER_ENGINEER):
            source = rng.choices(("self", "manager", "workshop"), (60, 25, 15))[0]
            row = {
                "user_id": user,
                "skill_id": skill,
                "level": rng.randint(1, 5),
                "source": source,
                "recorded_at": NOW - timedelta(days=rng.randint(1, 900)),
                "recorded_by_id": managers[i // TEAM_SIZE] if source == "manager" else user,
            }
            (verified if source == "workshop" else rows).append(row)
    db.session.execute(insert(SkillEvidence), rows)
    db.session.execute(
        insert(Submission),
        [{"user_id": r["user_id"], "version_id": version.id, "notebook": {}, "status": "graded"}
         for r in verified],
    )  # fmt: skip
    subs = _ids(Submission)
    for row, sub in zip(verified, subs, strict=True):
        row["submission_id"] = sub
    db.session.execute(insert(SkillEvidence), verified)


def timed(client, url: str, repeats: int) -> tuple[float, float]:  # noqa: ANN001
    """(median, p95) in milliseconds of ``repeats`` GETs, after two warm-up requests."""
    for _ in range(2):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/skills_bench"
    )
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
         "PASSWORD_HASH_PROFILE": "CHEAPEST", "WTF_CSRF_ENABLED": False}
    )  # fmt: skip
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        team_id = build_org(random.Random(5))
        db.session.execute(text("ANALYZE"))  # fresh planner statistics, as autovacuum would give
        evidence = db.session.query(SkillEvidence).count()
        print(f"built org in {time.perf_counter() - started:.1f}s: {evidence} evidence rows")
    client = app.test_client()
    client.post("/login", data={"email": "m0@bench.test", "password": PASSWORD})
    pages = [
        ("/healthz (baseline)", "/healthz"),
        ("team matrix", f"/teams/{team_id}/matrix"),
        ("team matrix, all 150 skills", f"/teams/{team_id}/matrix?all=1"),
        ("team matrix CSV", f"/teams/{team_id}/matrix/export.csv"),
        ("team trends (12 months)", f"/teams/{team_id}/trends"),
    ]
    print("| page | median ms | p95 ms |\n|---|---:|---:|")
    for label, path in pages:
        median, p95 = timed(client, path, repeats=50)
        print(f"| {label} | {median:.1f} | {p95:.1f} |")


if __name__ == "__main__":
    main()
