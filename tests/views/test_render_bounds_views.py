"""A notebook too large to render is shown as "too large to display here" with a download link
that works: never a 500, never a worker held for the whole render."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import nbformat
import pytest
from flask.testing import FlaskClient

from tests.conftest import AuthActions, Org
from tests.factories import ADD_NOTEBOOK, graded_submission, make_notebook_version
from tests.views.test_work_views import student_notebook
from webapp.db import db as _db
from webapp.services.catalog import rendering

TOO_LARGE = "This notebook is too large to display here."
LINK_RE = re.compile(r'<a href="([^"]+)" download data-testid="too-large-download">')


def too_large_link(page: str) -> str:
    """The download link of the page's "too large" notice (the notice must be there)."""
    assert TOO_LARGE in page, page
    match = LINK_RE.search(page)
    assert match, page
    return match.group(1)


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param({"RENDER_MAX_BYTES": 500}, id="over the size limit"),
        pytest.param({"RENDER_TIME_LIMIT_S": 0.001}, id="past the time limit"),
    ],
)
def test_a_notebook_too_large_to_render_links_to_its_download(
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    catalog: dict[str, int],
    override_settings: Callable[..., None],
    limits: dict[str, object],
) -> None:
    override_settings(**limits)
    rendering.forget_memory()  # earlier tests may have rendered this version in this process
    notebook_id = catalog["tiny"]
    auth.login(org.engineer.email)
    response = client.get(f"/workshops/tiny/notebooks/{notebook_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    link = too_large_link(page)
    assert link == f"/workshops/tiny/notebooks/{notebook_id}/download"
    assert 'data-testid="notebook"' not in page
    assert 'type="file"' in page  # the rest of the page is there: uploads still work
    downloaded = client.get(link)
    assert downloaded.status_code == 200
    assert json.loads(downloaded.get_data(as_text=True)) == student_notebook(notebook_id)


def test_a_graded_notebook_too_large_to_render_links_to_its_own_download(
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    catalog: dict[str, int],
    override_settings: Callable[..., None],
) -> None:
    override_settings(RENDER_MAX_BYTES=500)
    version = make_notebook_version(ADD_NOTEBOOK)
    _db.session.commit()
    feedback = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("x" * 1000)])
    submission_id = graded_submission(org.engineer, version, feedback).id
    auth.login(org.engineer.email)
    response = client.get(f"/submissions/{submission_id}")
    assert response.status_code == 200
    link = too_large_link(response.get_data(as_text=True))
    assert link == f"/submissions/{submission_id}/graded.ipynb"
    downloaded = client.get(link)
    assert downloaded.status_code == 200
    assert downloaded.mimetype == "application/x-ipynb+json"
    assert json.loads(downloaded.get_data(as_text=True)) == json.loads(json.dumps(feedback))
    auth.logout()
    auth.login(org.teammate.email)
    assert client.get(link).status_code == 403  # an attempt's notebook is its author's


def test_an_attempt_not_graded_yet_has_no_graded_notebook_to_download(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    version = make_notebook_version(ADD_NOTEBOOK)
    _db.session.commit()
    submission = graded_submission(org.engineer, version, {})
    submission.status, submission.feedback = "queued", None
    _db.session.commit()
    auth.login(org.engineer.email)
    assert client.get(f"/submissions/{submission.id}/graded.ipynb").status_code == 404
