"""Drafts and notebooks: the download holds the draft's answers; an upload's answers become the
draft only after the checks every upload passes."""

from __future__ import annotations

import nbformat
import pytest
from sqlalchemy import func, select

from tests.conftest import Org
from tests.factories import make_notebook_version, nbgrader_notebook
from webapp.db import db as _db
from webapp.models import Draft
from webapp.services.errors import InvalidInput
from webapp.services.learning import drafts

SOURCE = nbgrader_notebook("def f():\n    return 1", "assert f() == 1", "assert f() + 1 == 2")
ANSWER = "def f():\n    return 1  # mine"


def test_without_a_draft_the_download_is_the_student_version(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    assert drafts.student_with_draft(version.student, {}) == version.student


def test_the_draft_fills_its_cells_and_answers_to_removed_cells_are_left_out(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    nb = drafts.student_with_draft(version.student, {"answer": ANSWER, "removed": "x = 1"})
    assert drafts.answers_of(nbformat.from_dict(nb)) == {"answer": ANSWER}


def test_an_uploads_answers_become_the_draft(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    uploaded = drafts.student_with_draft(version.student, {"answer": ANSWER})
    data = nbformat.writes(nbformat.from_dict(uploaded)).encode()
    draft = drafts.load_upload(_db.session, user=org.engineer, version=version, data=data)
    assert draft.answers == {"answer": ANSWER}
    saved = drafts.saved_draft(
        _db.session, user_id=org.engineer.id, notebook_id=version.notebook_id
    )
    assert saved.answers == {"answer": ANSWER} and saved.updated_at is not None


def test_a_refused_upload_says_what_to_do_and_stores_no_draft(org: Org) -> None:
    version = make_notebook_version(SOURCE)
    with pytest.raises(InvalidInput, match="Nothing was loaded.*not JSON.*Upload the .ipynb"):
        drafts.load_upload(_db.session, user=org.engineer, version=version, data=b"{oops")
    assert _db.session.scalar(select(func.count(Draft.id))) == 0
