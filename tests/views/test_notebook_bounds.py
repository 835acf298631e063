"""Bounds on every way a notebook enters: too many cells, a cell's source or an output too large,
JSON nested too deep are refused with a message saying what to do, and nothing is stored."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from tests.conftest import AuthActions, Org, csrf_token
from tests.factories import fixture_catalog
from tests.views.test_malformed_uploads import shown_error
from tests.views.test_work_views import count_submissions, student_notebook, upload
from webapp.db import db as _db
from webapp.models import Draft, LiveKernel
from webapp.services.learning import drafts

NOT_GRADABLE = "The file is not a notebook Skillforge can grade: "
NOT_LOADED = "Nothing was loaded and your saved answers are unchanged. "
CELLS = (
    "it has 9 cells, more than the 8 a notebook may have. Remove the extra cells (or start again "
    "from a fresh copy of the notebook) and try again."
)
SOURCE = (
    "Cell 3 holds 1,500 bytes of source, more than the 1,000 a cell may hold. Shorten it (keep "
    "data in files, not in the notebook) and try again."
)
BIG_OUTPUT = {"output_type": "stream", "name": "stdout", "text": "y" * 2000}
OUTPUT = (
    f"Cell 2 has an output of {len(json.dumps(BIG_OUTPUT, separators=(',', ':'))):,} bytes, more "
    "than the 1,000 one output may be. Clear that cell's outputs (in Jupyter: Edit > Clear "
    "Outputs of Selected Cells) and try again."
)
DEPTH = (
    "not a valid notebook: cell 3 is nested more than 10 levels deep, which no notebook needs. "
    "Clear its outputs and metadata (or copy your work into a fresh notebook) and try again."
)


def count_drafts() -> int:
    return _db.session.scalar(select(func.count(Draft.id))) or 0


def tiny_student() -> dict[str, Any]:
    """A fresh copy of the tiny workshop's student notebook (6 cells), as an engineer has it."""
    return json.loads(json.dumps(student_notebook(fixture_catalog()["tiny"])))


def more_cells(nb: dict[str, Any]) -> None:
    nb["cells"] += [{"cell_type": "markdown", "metadata": {}, "source": "note"}] * 3


def long_source(nb: dict[str, Any]) -> None:
    nb["cells"][2]["source"] = "x" * 1500


def big_output(nb: dict[str, Any]) -> None:
    nb["cells"][1]["outputs"] = [BIG_OUTPUT]


def deep_metadata(nb: dict[str, Any]) -> None:
    nested: dict[str, Any] = {}
    for _ in range(12):
        nested = {"a": nested}
    nb["cells"][2]["metadata"]["widgets"] = nested


LIMITS = {
    "NOTEBOOK_MAX_CELLS": 8,
    "NOTEBOOK_MAX_SOURCE_BYTES": 1000,
    "NOTEBOOK_MAX_OUTPUT_BYTES": 1000,
    "NOTEBOOK_MAX_DEPTH": 10,
}
CASES = [
    pytest.param(more_cells, CELLS, id="cells"),
    pytest.param(long_source, SOURCE, id="source"),
    pytest.param(big_output, OUTPUT, id="output"),
    pytest.param(deep_metadata, DEPTH, id="depth"),
]


@pytest.mark.parametrize(("damage", "message"), CASES)
@pytest.mark.parametrize("mode", ["final", "check", "load"])
def test_an_upload_over_a_limit_is_refused_with_what_to_do_and_nothing_is_stored(
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    override_settings: Callable[..., None],
    damage: Callable[[dict[str, Any]], None],
    message: str,
    mode: str,
) -> None:
    """Submit, Run tests and Load into the editors alike: no attempt, no draft."""
    override_settings(**LIMITS)
    nb = tiny_student()
    damage(nb)
    auth.login(org.engineer.email)
    response = upload(client, fixture_catalog()["tiny"], json.dumps(nb).encode(), mode=mode)
    assert response.status_code == 400
    refused = NOT_GRADABLE + message
    if mode == "load":
        refused = NOT_LOADED + refused + drafts.WHAT_TO_DO
    assert shown_error(response) == refused
    assert (count_submissions(), count_drafts()) == (0, 0)


def upload_in_memory(client: FlaskClient, notebook_id: int, data: bytes) -> TestResponse:
    """``upload``, its body built in memory: the test client spools a file over 500 kB to a
    temporary file that it never closes."""
    page = f"/workshops/tiny/notebooks/{notebook_id}"
    fields = {
        "csrf_token": csrf_token(client, page),
        "mode": "final",
        "notebook": FileStorage(io.BytesIO(data), "work.ipynb"),
    }
    boundary, body = encode_multipart(fields)
    return client.post(
        f"{page}/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def test_an_upload_of_95000_empty_cells_is_refused_at_the_cell_count(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    """The security review's file: 4.4 MB of empty cells, once 31 s of a web thread (nbformat's
    validation, then a count per cell); now refused on the cell count, before either."""
    nb = tiny_student()
    nb["cells"] += [{"cell_type": "raw", "metadata": {}, "source": ""}] * 95_000
    auth.login(org.engineer.email)
    response = upload_in_memory(client, fixture_catalog()["tiny"], json.dumps(nb).encode())
    assert response.status_code == 400
    assert shown_error(response) == NOT_GRADABLE + (
        "it has 95,006 cells, more than the 1,000 a notebook may have. Remove the extra cells (or "
        "start again from a fresh copy of the notebook) and try again."
    )
    assert (count_submissions(), count_drafts()) == (0, 0)


ANSWER = (
    "Your answer 'impl_mean' holds 1,001 bytes of source, more than the 1,000 a cell may hold. "
    "Shorten it (keep data in files, not in the notebook) and try again."
)


def post_json(client: FlaskClient, auth: AuthActions, org: Org, path: str, body: str) -> Any:
    """POST ``body`` as JSON to the tiny notebook's ``path``, as the engineer's page does."""
    page = f"/workshops/tiny/notebooks/{fixture_catalog()['tiny']}"
    auth.login(org.engineer.email)
    headers = {"X-CSRFToken": csrf_token(client, page), "Accept": "application/json"}
    return client.post(page + path, data=body, content_type="application/json", headers=headers)


def test_an_autosaved_answer_over_the_source_limit_is_refused_and_not_saved(
    client: FlaskClient, auth: AuthActions, org: Org, override_settings: Callable[..., None]
) -> None:
    override_settings(NOTEBOOK_MAX_SOURCE_BYTES=1000)
    body = json.dumps({"impl_mean": "é" * 500 + "x"})
    response = post_json(client, auth, org, "/draft", body)
    assert response.status_code == 400
    assert response.get_json()["message"] == ANSWER
    assert count_drafts() == 0


def test_submitting_an_answer_over_the_source_limit_stores_neither_draft_nor_attempt(
    client: FlaskClient, auth: AuthActions, org: Org, override_settings: Callable[..., None]
) -> None:
    override_settings(NOTEBOOK_MAX_SOURCE_BYTES=1000)
    page = f"/workshops/tiny/notebooks/{fixture_catalog()['tiny']}"
    auth.login(org.engineer.email)
    answers = json.dumps({"impl_mean": "x" * 1001})
    form = {"csrf_token": csrf_token(client, page), "mode": "final", "answers": answers}
    response = client.post(f"{page}/submit", data=form)
    assert response.status_code == 400
    assert shown_error(response) == ANSWER
    assert (count_submissions(), count_drafts()) == (0, 0)


def test_answers_nested_past_the_depth_limit_are_refused_before_parsing(
    client: FlaskClient, auth: AuthActions, org: Org, override_settings: Callable[..., None]
) -> None:
    override_settings(NOTEBOOK_MAX_DEPTH=3)
    response = post_json(client, auth, org, "/draft", json.dumps({"impl_mean": [[["x"]]]}))
    assert response.status_code == 400
    assert response.get_json()["message"] == "Send the answers as a JSON object of cell id to text."
    assert count_drafts() == 0


@pytest.fixture()
def kernel_row(org: Org) -> LiveKernel:
    """The engineer's live kernel as the app records it; the limits refuse a request before any
    host is asked, so the row's host is never reached."""
    row = LiveKernel(
        user_id=org.engineer.id,
        notebook_id=fixture_catalog()["tiny"],
        host="http://127.0.0.1:9",
        kernel_id="never-started",
    )
    _db.session.add(row)
    _db.session.commit()
    return row


def test_a_live_cell_over_the_source_limit_is_refused_before_it_reaches_the_kernel(
    client: FlaskClient,
    auth: AuthActions,
    org: Org,
    override_settings: Callable[..., None],
    kernel_row: LiveKernel,
) -> None:
    override_settings(NOTEBOOK_MAX_SOURCE_BYTES=1000)
    used = kernel_row.last_used_at
    response = post_json(client, auth, org, "/kernel/run", json.dumps({"code": "x" * 1001}))
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "This cell holds 1,001 bytes of source, more than the 1,000 a cell may hold. Shorten it "
        "(keep data in files, not in the notebook) and try again."
    )
    body = json.dumps({"answers": {"impl_mean": "x" * 1001}})
    checked = post_json(client, auth, org, "/check/test_mean", body)
    assert checked.status_code == 400
    assert checked.get_json()["message"] == ANSWER
    _db.session.expire_all()
    assert _db.session.get(LiveKernel, kernel_row.id).last_used_at == used


def test_a_live_request_nested_past_the_depth_limit_is_a_400_not_a_500(
    client: FlaskClient, auth: AuthActions, org: Org, kernel_row: LiveKernel
) -> None:
    body = '{"code": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert post_json(client, auth, org, "/kernel/run", body).status_code == 400
