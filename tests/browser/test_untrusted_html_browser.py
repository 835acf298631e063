"""In a real browser: notebook HTML cannot dress as the app, nor take an id the page uses."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import FIXTURE_COURSES, Org
from tests.factories import (
    ADD_NOTEBOOK,
    PASSWORD,
    first_notebook_ids,
    graded_submission,
    make_notebook_version,
)
from webapp.db import db as _db
from webapp.services.catalog.sync import sync_catalog

pytestmark = pytest.mark.browser

# The "session expired" overlay a submission's output drew over a reviewer's page with the app's
# own Bootstrap classes, with a link off the site.
OVERLAY = (
    '<div class="modal d-block position-fixed top-0 start-0 w-100 h-100 bg-white" '
    'data-testid="overlay"><h1 class="display-1">Your session expired</h1>'
    '<a class="btn btn-primary btn-lg" href="https://evil.example/login">Sign in again</a></div>'
)


def test_a_submissions_overlay_draws_nothing_app_styled_on_the_admins_page(
    page: Page, org: Org
) -> None:
    version = make_notebook_version(ADD_NOTEBOOK)
    cell = nbformat.v4.new_code_cell(
        "display(HTML(overlay))",
        outputs=[nbformat.v4.new_output("display_data", data={"text/html": OVERLAY})],
    )
    feedback = nbformat.v4.new_notebook(cells=[cell])
    submission = graded_submission(org.engineer, version, feedback)

    log_in(page, org.admin.email, PASSWORD)
    page.goto(f"/submissions/{submission.id}")
    link = page.get_by_role("link", name="Sign in again")
    expect(link).to_be_visible()
    assert link.evaluate("el => el.className") == ""
    assert link.evaluate("el => getComputedStyle(el).backgroundColor") == "rgba(0, 0, 0, 0)"
    heading = page.get_by_text("Your session expired")
    assert heading.evaluate("el => el.className") == ""
    box = page.locator("#notebook").bounding_box()
    drawn = heading.locator("xpath=..").bounding_box()
    assert box is not None and drawn is not None
    assert box["y"] <= drawn["y"] and drawn["y"] + drawn["height"] <= box["y"] + box["height"]
    assert drawn["height"] < 300  # not a full-screen sheet
    expect(page.get_by_role("navigation").first).to_be_visible()  # the app's menu stays usable
    screenshot(page, "untrusted-overlay")


def test_a_notebook_element_named_like_the_editors_container_does_not_stop_the_editors(
    page: Page, org: Org, tmp_path: Path, override_settings: Callable[..., None]
) -> None:
    courses = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, courses)
    path = courses / "tiny" / "01-basics.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += '\n\n<div id="answer-cells"></div><div id="answers-form"></div>'
    nbformat.write(nb, path)
    assert sync_catalog(_db.session, courses, actor=None).ok
    _db.session.commit()

    log_in(page, org.engineer.email, PASSWORD)
    page.goto(f"/workshops/tiny/notebooks/{first_notebook_ids()['tiny']}")
    expect(page.locator(".CodeMirror[data-grade-id=impl_mean]")).to_be_visible()
    expect(page.locator(".CodeMirror[data-grade-id=impl_var]")).to_be_visible()
