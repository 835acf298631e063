"""Malformed notebooks are refused at the door: nbgrader metadata of the wrong types, or nesting no
notebook has, gets a 400 naming the cell and saying what to do, and nothing is stored."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import AuthActions, Org, csrf_token
from tests.factories import fixture_catalog
from tests.views.test_work_views import count_submissions, student_notebook, upload
from webapp.db import db as _db
from webapp.models import NotebookVersion

FIX = (
    " Skillforge reads nbgrader metadata only as nbgrader writes it: download a fresh copy of the "
    "notebook here, copy your answers into it and upload that."
)
MESSAGE_RE = re.compile(r'data-testid="error-message">(.*?)</p>', re.DOTALL)


def shown_error(response: TestResponse) -> str:
    """The message the error page shows, as the engineer reads it."""
    match = MESSAGE_RE.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)
    return html.unescape(match.group(1))


def damaged_upload(notebook_id: int, index: int, key: str | None, value: object) -> bytes:
    """The tiny workshop's student notebook, with one cell's nbgrader metadata (or field) set."""
    data = json.loads(json.dumps(student_notebook(notebook_id)))
    metadata = data["cells"][index]["metadata"]
    if key is None:
        metadata["nbgrader"] = value
    else:
        metadata["nbgrader"][key] = value
    return json.dumps(data).encode()


# tiny's cells: 1 intro, 2 setup, 3 impl_mean, 4 test_mean, 5 impl_var, 6 test_var
@pytest.mark.parametrize(
    ("index", "key", "value", "expected"),
    [
        (2, None, "solution", 'Cell 3: nbgrader metadata is the text "solution", not an object.'),
        (3, None, ["grade", True], "Cell 4: nbgrader metadata is a list, not an object."),
        (1, None, 1, "Cell 2: nbgrader metadata is the number 1, not an object."),
        (5, None, None, "Cell 6: nbgrader metadata is null, not an object."),
        (2, "grade_id", 3, "Cell 3: nbgrader grade_id is the number 3, not text."),
        (
            3,
            "points",
            "2",
            "Cell 4 (grade_id 'test_mean'): nbgrader points are the text \"2\", not a number.",
        ),
        (
            4,
            "solution",
            "true",
            "Cell 5 (grade_id 'impl_var'): nbgrader flag 'solution' is the text \"true\", not "
            "true or false.",
        ),
        (
            5,
            "grade",
            1,
            "Cell 6 (grade_id 'test_var'): nbgrader flag 'grade' is the number 1, not true or "
            "false.",
        ),
    ],
)
def test_upload_with_malformed_nbgrader_metadata_names_the_cell_and_stores_nothing(
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    index: int,
    key: str | None,
    value: object,
    expected: str,
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    response = upload(client, notebook_id, damaged_upload(notebook_id, index, key, value))
    assert response.status_code == 400
    assert shown_error(response) == "This notebook cannot be graded here: " + expected + FIX
    assert count_submissions() == 0


def test_upload_nested_deeper_than_any_notebook_is_refused_and_stores_nothing(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    data = json.loads(json.dumps(student_notebook(notebook_id)))
    data["cells"][2]["outputs"] = "PLACEHOLDER"
    deep = "[" * 50_000 + "]" * 50_000  # json.loads raised RecursionError (a 500) on this
    body = json.dumps(data).replace('"PLACEHOLDER"', deep).encode()
    response = upload(client, notebook_id, body)
    assert response.status_code == 400
    assert shown_error(response) == (
        "The file is not a notebook Skillforge can grade: not a valid notebook: cell 3 is nested "
        "more than 64 levels deep, which no notebook needs. Clear its outputs and metadata (or "
        "copy your work into a fresh notebook) and try again."
    )
    assert count_submissions() == 0


def test_submit_from_the_editor_checks_the_metadata_too(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    """Built from the stored student version, which sync checks; a damaged one is still caught."""
    notebook_id = fixture_catalog()["tiny"]
    version = _db.session.scalar(
        select(NotebookVersion).where(NotebookVersion.notebook_id == notebook_id)
    )
    assert version is not None
    student = json.loads(json.dumps(version.student))
    student["cells"][3]["metadata"]["nbgrader"]["points"] = "2"
    version.student = student
    _db.session.commit()
    auth.login(org.engineer.email)
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    answers = json.dumps({"impl_mean": "def mean(xs):\n    return 2"})
    form = {"csrf_token": csrf_token(client, page), "mode": "final", "answers": answers}
    response = client.post(f"{page}/submit", data=form)
    assert response.status_code == 400
    assert shown_error(response) == (
        "This notebook cannot be graded here: Cell 4 (grade_id 'test_mean'): nbgrader points are "
        'the text "2", not a number.' + FIX
    )
    assert count_submissions() == 0


@pytest.mark.parametrize("endpoint", ["submit", "draft"])
def test_answers_nested_thousands_deep_are_refused_not_a_500(
    client: FlaskClient, auth: AuthActions, org: Org, endpoint: str
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    auth.login(org.engineer.email)
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    token, deep = csrf_token(client, page), "[" * 100_000 + "]" * 100_000
    if endpoint == "submit":
        form = {"csrf_token": token, "mode": "final", "answers": deep}
        response = client.post(f"{page}/submit", data=form)
    else:
        headers = {"X-CSRFToken": token}
        response = client.post(
            f"{page}/draft", data=deep, content_type="application/json", headers=headers
        )
    assert response.status_code == 400
    assert count_submissions() == 0
