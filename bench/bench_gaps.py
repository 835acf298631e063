"""Time the staffing gap pages on a large organisation, against a baseline route in the same run.

Build the organisation first (PostgreSQL):

    export SKILLFORGE_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/skillforge_bench
    .venv/bin/flask --app webapp demo --engineers 5000 --skills 150 --projects 300
    .venv/bin/python -m bench.bench_gaps            # prints a markdown table

Targets (issue 5): project gaps page median < 300 ms and p95 < 1 s; organisation-wide gap report
< 2 s. Requests go through the whole app (routing, login, SQL, templates) with Flask's test client,
so network time is left out; the baseline row (the home page) shows the fixed cost of a page.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from webapp import create_app
from webapp.db import db
from webapp.models import Project, Team
from webapp.seed import demo

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def log_in(client: FlaskClient, email: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_RE.search(page)
    assert token, "no CSRF token on /login"
    answer = client.post(
        "/login",
        data={"email": email, "password": demo.DEMO_PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 302, f"could not log in as {email}"


def timed(client: FlaskClient, urls: Callable[[], str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        url = urls()
        started = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        out.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code, body[:200])
    return out


def row(name: str, samples: list[float], target: str) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    median = statistics.median(ms)
    return f"| {name} | {len(ms)} | {median:.0f} | {p95:.0f} | {max(ms):.0f} | {target} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--admin", default=demo.email_for("Ada Admin"))
    args = parser.parse_args()
    app = create_app({"RATELIMIT_ENABLED": False})
    rng = random.Random(5)
    with app.app_context():
        projects = list(
            db.session.scalars(select(Project.id).where(Project.name.like("Big project %")))
        )
        team = db.session.scalar(select(Team.id).where(Team.name == "Big Org 001"))
        url = db.engine.url.render_as_string(hide_password=True)
    assert projects and team, "build the large organisation first (see the module docstring)"
    client = app.test_client()
    log_in(client, args.admin)
    n = args.runs
    timed(client, lambda: "/staffing/gaps", 2)  # warm caches and connections
    lines = [
        f"Database: {url}; {len(projects)} generated projects; {n} requests per row.",
        "",
        "| page | requests | median ms | p95 ms | max ms | target |",
        "|---|---|---|---|---|---|",
        row("baseline: home page", timed(client, lambda: "/", n), "—"),
        row(
            "project gaps page",
            timed(client, lambda: f"/staffing/projects/{rng.choice(projects)}", n),
            "median < 300, p95 < 1000",
        ),
        row("projects list (all teams)", timed(client, lambda: "/staffing/", n // 2), "—"),
        row(
            "organisation-wide gap report",
            timed(client, lambda: "/staffing/gaps", n // 2),
            "< 2000",
        ),
        row(
            "organisation-wide gaps CSV",
            timed(client, lambda: "/staffing/gaps.csv", n // 4),
            "< 2000",
        ),
        row(
            "team plan page (cached or not)",
            timed(client, lambda: f"/staffing/teams/{team}/plan", 5),
            "—",
        ),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
