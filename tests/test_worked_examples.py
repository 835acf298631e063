"""Worked examples' outputs: made in the grading sandbox after a sync, shown on the notebook page.

Real parts throughout: the catalog synced from files, the queue and a worker (or the CLI), the
sandboxed kernel, the rendered page.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import FIXTURE_COURSES, AuthActions, Org, post_form
from tests.factories import first_notebook_ids
from tests.test_jobs import wait_for
from webapp.db import db as _db
from webapp.models import AuditEvent, Notebook, WorkedExamples

pytestmark = pytest.mark.sandbox

PNG_IMAGE = re.compile(r'<img [^>]*src="data:image/png;base64,')
PLOT = (
    "import matplotlib.pyplot as plt\n"
    "plt.plot([1, 2, 3], [mean([1, 3]), 4, 9])\nplt.show()\n"
    "print(f'WORKED-EXAMPLE mean of 2 and 4 is {mean([2, 4]):g}')"
)


def worked_courses(tmp_path: Path) -> Path:
    """The fixture courses, with a plot and a printed value in locked cells of tiny/01-basics,
    a solution and a hidden test that print markers, and a locked cell the author keeps back."""
    courses = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, courses)
    path = courses / "tiny" / "01-basics.ipynb"
    nb = nbformat.read(path, as_version=4)
    solution, test = nb.cells[2], nb.cells[3]
    solution.source += "\n### BEGIN SOLUTION\nprint('SOLUTION-RAN')\n### END SOLUTION"
    test.source = test.source.replace("### END HIDDEN", "print('HIDDEN-TEST-RAN')\n### END HIDDEN")
    locked = {"grade": False, "solution": False, "locked": True, "schema_version": 3}
    plot = nbformat.v4.new_code_cell(
        PLOT, metadata={"nbgrader": {**locked, "grade_id": "plot", "task": False}}
    )
    kept = nbformat.v4.new_code_cell(
        "print('KEPT' + '-BACK-' + str(mean([1, 2])))",
        metadata={"nbgrader": {**locked, "grade_id": "kept", "task": False}},
    )
    kept.metadata["skillforge"] = {"show_outputs": False}
    nb.cells[4:4] = [plot, kept]
    nbformat.write(nb, path)
    return courses


def article(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return html.split('data-testid="notebook"', 1)[1].split("</article>", 1)[0]


def status_line(client: FlaskClient, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    if 'data-testid="worked-examples-status"' not in html:
        return ""
    return html.split('data-testid="worked-examples-status">', 1)[1].split("</p>", 1)[0]


def row_of(content_hash: str) -> WorkedExamples | None:
    _db.session.rollback()
    return _db.session.scalar(
        select(WorkedExamples).where(WorkedExamples.content_hash == content_hash)
    )


@pytest.fixture()
def courses(tmp_path: Path, override_settings: Callable[..., None]) -> Path:
    folder = worked_courses(tmp_path)
    override_settings(COURSES_PATH=str(folder), RENDER_CACHE_PATH=str(tmp_path / "render-cache"))
    return folder


def test_a_sync_has_a_worker_make_the_outputs_and_the_page_shows_them_without_secrets(
    consumer: None, client: FlaskClient, auth: AuthActions, org: Org, courses: Path
) -> None:
    auth.login(org.admin.email)
    response = post_form(client, "/admin/catalog/sync", {}, token_from="/admin/catalog")
    assert response.status_code == 302
    tiny = first_notebook_ids()["tiny"]
    url = f"/workshops/tiny/notebooks/{tiny}"
    content_hash = _db.session.scalar(select(Notebook.current_hash).where(Notebook.id == tiny))
    wait_for(lambda: getattr(row_of(content_hash), "status", "") == "ready", "the outputs")

    auth.logout()
    auth.login(org.engineer.email)
    shown = article(client, url)
    assert len(PNG_IMAGE.findall(shown)) == 1  # the plot, before anything runs
    assert "WORKED-EXAMPLE mean of 2 and 4 is 3" in shown
    for secret in ("SOLUTION-RAN", "HIDDEN-TEST-RAN", "KEPT-BACK-1.5"):
        assert secret not in shown
    assert status_line(client, url) == ""
    download = json.loads(client.get(f"{url}/download").get_data(as_text=True))
    outputs = [o for cell in download["cells"] for o in cell.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert "SOLUTION-RAN" not in json.dumps(download)

    auth.logout()
    auth.login(org.admin.email)
    admin = client.get("/admin/catalog").get_data(as_text=True)
    table = admin.split('data-testid="worked-examples"', 1)[1].split("</table>", 1)[0]
    assert "tiny/01-basics.ipynb" in table and ">ready<" in table


def test_the_page_says_when_outputs_are_on_their_way_and_a_changed_notebook_has_none_of_the_old(
    app: Flask,
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    courses: Path,
    override_settings: Callable[..., None],
) -> None:
    cli = app.test_cli_runner()
    synced = cli.invoke(args=["courses", "sync"])
    assert synced.exit_code == 0, synced.output
    tiny = first_notebook_ids()["tiny"]
    url = f"/workshops/tiny/notebooks/{tiny}"
    auth.login(org.engineer.email)
    assert "being made" in status_line(client, url)
    assert not PNG_IMAGE.search(article(client, url))

    made = cli.invoke(args=["courses", "outputs", "tiny"])
    assert made.exit_code == 0, made.output
    assert "Made the worked examples' outputs of 1 notebook." in made.output
    assert PNG_IMAGE.search(article(client, url))

    # The author changes the plot: the new content shows no outputs until its own are made.
    path = courses / "tiny" / "01-basics.ipynb"
    path.write_text(path.read_text().replace("WORKED-EXAMPLE", "CHANGED-EXAMPLE"))
    assert cli.invoke(args=["courses", "sync"]).exit_code == 0
    shown = article(client, url)
    assert "mean of 2 and 4 is 3" not in shown and not PNG_IMAGE.search(shown)

    # Outputs too big for a page are refused, with what to do, and the page says to run the cells.
    override_settings(WORKED_OUTPUTS_MAX_BYTES=1000)
    refused = cli.invoke(args=["courses", "outputs", "tiny"])
    assert refused.exit_code == 1
    assert "tiny/01-basics.ipynb: The outputs take" in refused.output
    assert "draw smaller plots" in refused.output
    assert "run their cells" in status_line(client, url)
    assert "CHANGED-EXAMPLE mean of 2 and 4 is 3" not in article(client, url)


def test_an_admin_asks_for_them_again_and_it_is_audited(
    client: FlaskClient, auth: AuthActions, org: Org, courses: Path, app: Flask
) -> None:
    cli = app.test_cli_runner()
    assert cli.invoke(args=["courses", "sync"]).exit_code == 0
    made = cli.invoke(args=["courses", "outputs"])
    assert made.exit_code == 0, made.output
    assert "of 2 notebooks" in made.output
    auth.login(org.admin.email)
    response = post_form(client, "/admin/catalog/worked-examples", {}, token_from="/admin/catalog")
    assert response.status_code == 302
    _db.session.rollback()
    statuses = _db.session.scalars(select(WorkedExamples.status)).all()
    assert sorted(set(statuses)) == ["queued"] and len(statuses) == 2
    event = _db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "catalog.worked_examples")
    )
    assert event is not None and event.actor_id == org.admin.id
    page = client.get("/admin/catalog").get_data(as_text=True)
    assert "2 notebooks to go; this list updates by itself." in page
    assert 'data-refresh-while="pending"' in page
