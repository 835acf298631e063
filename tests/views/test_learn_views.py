"""Catalog pages, notebook pages, downloads and the admin catalog page, through the test client."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.http import parse_options_header

from tests.conftest import AuthActions, Org, post_form
from tests.factories import FIXTURE_COURSES
from webapp.db import db as _db
from webapp.models import Skill, SkillEvidence, Workshop, WorkshopProgress


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def article(html: str) -> str:
    """The rendered notebook of a notebook page."""
    return html.split('data-testid="notebook"', 1)[1].split("</article>", 1)[0]


def catalog_row(html: str, title: str) -> str:
    """The catalog table row of one workshop."""
    match = re.search(
        rf"<tr>\s*<th scope=\"row\"><a [^>]*>{re.escape(title)}</a>.*?</tr>", html, re.S
    )
    assert match, f"no row for {title}"
    return match.group(0)


def test_catalog_lists_workshops_with_skills_hours_difficulty_and_progress(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    auth.login(org.engineer.email)
    row = catalog_row(page(client, "/workshops"), "Tiny statistics")
    assert "Statistics · level 2" in row and "Python for data work · level 1" in row
    assert "<td>0.5</td>" in row and "Introductory" in row and "Not started" in row


def test_unmet_prerequisites_say_which_and_met_ones_say_so(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    auth.login(org.engineer.email)
    row = catalog_row(page(client, "/workshops"), "Problem set 1")
    assert "Workshop: Tiny statistics</a>\n    — <span>not met: not passed yet" in row
    assert "Statistics level 2\n    — <span>not met: no level recorded for you yet" in row

    tiny_id = _db.session.scalar(select(Workshop.id).where(Workshop.slug == "tiny"))
    skill_id = _db.session.scalar(select(Skill.id).where(Skill.code == "statistics"))
    _db.session.add(
        WorkshopProgress(
            user_id=org.engineer.id,
            workshop_id=tiny_id,
            attempts=1,
            best_score=0.9,
            passed_at=datetime(2024, 5, 1, tzinfo=UTC),
        )
    )
    _db.session.add(
        SkillEvidence(user_id=org.engineer.id, skill_id=skill_id, level=3, source="self")
    )
    _db.session.commit()
    html = page(client, "/workshops")
    row = catalog_row(html, "Problem set 1")
    assert "met: passed" in row and "met: you are at level 3" in row and "not met" not in row
    assert "Passed 2024-05-01" in catalog_row(html, "Tiny statistics")


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("skill=statistics", "Tiny statistics", "Problem set 1"),
        ("category=data", "Problem set 1", None),
        ("level=2", "Problem set 1", None),
        ("level=1", "Tiny statistics", "Problem set 1"),
        ("q=bessel", "Tiny statistics", "Problem set 1"),
        ("q=input+validation", "Problem set 1", "Tiny statistics"),
    ],
)
def test_catalog_filters_by_skill_category_level_and_text(
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    catalog: dict[str, int],
    query: str,
    shown: str,
    hidden: str | None,
) -> None:
    auth.login(org.engineer.email)
    html = page(client, f"/workshops?{query}")
    assert f">{shown}</a>" in html
    if hidden:
        assert f">{hidden}</a>" not in html


def test_workshop_page_shows_what_a_pass_proves_and_the_exercises(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    auth.login(org.engineer.email)
    html = page(client, "/workshops/tiny")
    assert "Can compute a mean and a sample variance" in html
    assert "Means and variances</a>" in html and "3 points" in html
    # exercises by the heading above them (here the notebook's only one), never by grade id
    assert html.count('#user-content-cell-id=91bb3284">Means and variances</a>') == 1
    assert html.count('#user-content-cell-id=cb4e4f47">Means and variances</a>') == 1
    assert "test_mean" not in html and "impl_mean" not in html
    assert "80% of 3 points" in html


def test_unknown_workshop_is_404(client: FlaskClient, auth: AuthActions, org: Org) -> None:
    auth.login(org.engineer.email)
    assert client.get("/workshops/no-such-thing").status_code == 404


def test_notebook_page_renders_the_student_version_inside_the_layout(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    auth.login(org.engineer.email)
    response = client.get(f"/workshops/tiny/notebooks/{catalog['tiny']}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "YOUR CODE HERE" in html and "NotImplementedError" in html
    assert "sum(xs) / len(xs)" not in html and "HIDDEN TESTS" not in html
    assert "assert mean([5]) == 5" not in html  # a hidden test
    assert html.count("<html") == 1 and 'data-testid="notebook-actions"' in html
    assert "/notebook-highlight.css" in html and "katex/auto-render.min.js" in html
    assert 'class="highlight' in html and "style=" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_notebook_page_renders_once_per_version(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int], app: Flask
) -> None:
    """Counted by the cache file: each render writes a new one (a new inode, atomically)."""
    from webapp.services.catalog import rendering

    rendering.forget_memory()  # earlier tests may have rendered the same version in this process
    auth.login(org.engineer.email)
    url = f"/workshops/tiny/notebooks/{catalog['tiny']}"
    first = article(page(client, url))
    (rendered,) = Path(app.config["RENDER_CACHE_PATH"]).glob("*.html")
    written = rendered.stat().st_ino
    rendering.forget_memory()  # as after a restart: the disk cache remains
    assert article(page(client, url)) == first
    assert list(Path(app.config["RENDER_CACHE_PATH"]).glob("*.html")) == [rendered]
    assert rendered.stat().st_ino == written


def test_student_download_is_the_student_notebook(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    auth.login(org.engineer.email)
    response = client.get(f"/workshops/tiny/notebooks/{catalog['tiny']}/download")
    kind, options = parse_options_header(response.headers["Content-Disposition"])
    assert (kind, options["filename"]) == ("attachment", "tiny-01-basics.ipynb")
    nb = json.loads(response.get_data(as_text=True))
    sources = "".join(c["source"] for c in nb["cells"])
    assert "raise NotImplementedError()" in sources and "sum(xs) / len(xs)" not in sources


def test_admin_downloads_the_instructor_version(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    auth.login(org.admin.email)
    html = page(client, f"/workshops/tiny/notebooks/{catalog['tiny']}")
    assert "Download instructor version" in html
    nb = json.loads(client.get(f"/workshops/tiny/notebooks/{catalog['tiny']}/source").data)
    assert "### BEGIN HIDDEN TESTS" in "".join(c["source"] for c in nb["cells"])


def test_engineer_sees_no_instructor_download(
    client: FlaskClient, auth: AuthActions, org: Org, catalog: dict[str, int]
) -> None:
    auth.login(org.engineer.email)
    assert "instructor version" not in page(client, f"/workshops/tiny/notebooks/{catalog['tiny']}")


def test_admin_sync_now_publishes_the_catalog(
    client: FlaskClient, auth: AuthActions, org: Org, override_settings: Callable[..., None]
) -> None:
    override_settings(COURSES_PATH=str(FIXTURE_COURSES / "valid"))
    auth.login(org.admin.email)
    assert "Never synced" in page(client, "/admin/catalog")
    response = post_form(client, "/admin/catalog/sync", {}, token_from="/admin/catalog")
    assert response.status_code == 302
    html = page(client, "/admin/catalog")
    assert "Synced 2 workshops (2 new, 0 archived)" in html and "succeeded" in html
    assert "<code>tiny</code>" in html


def test_admin_sync_of_a_broken_catalog_lists_problems_and_changes_nothing(
    client: FlaskClient, auth: AuthActions, org: Org, override_settings: Callable[..., None]
) -> None:
    override_settings(COURSES_PATH=str(FIXTURE_COURSES / "broken"))
    auth.login(org.admin.email)
    post_form(client, "/admin/catalog/sync", {}, token_from="/admin/catalog")
    html = page(client, "/admin/catalog")
    assert "Problems to fix (9)" in html
    assert "bad-cells/01-basics.ipynb, cell 6 (grade_id &#39;test_var&#39;): graded cell" in html
    assert _db.session.scalar(select(func.count()).select_from(Workshop)) == 0


def test_sync_without_csrf_token_is_refused(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.admin.email)
    assert client.post("/admin/catalog/sync").status_code == 400


def test_courses_sync_command_reports_problems_and_fails(app: Flask, db: object) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["courses", "sync", str(FIXTURE_COURSES / "broken")])
    assert result.exit_code == 1
    assert "bad-json/02-missing.ipynb: listed in course.toml but the file is missing" in (
        result.output
    )
    assert _db.session.scalar(select(func.count()).select_from(Workshop)) == 0
    ok = runner.invoke(args=["courses", "sync", str(FIXTURE_COURSES / "valid")])
    assert ok.exit_code == 0, ok.output
    assert "Synced 2 workshops" in ok.output
