"""In a real browser: the notebook page and JupyterLab meet. The download holds the answers typed
in the editors; an uploaded notebook's answers fill the editors, over an older copy kept in this
browser; a copy typed while the server was unreachable still survives a reload."""

from __future__ import annotations

import json

import nbformat
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import Org
from tests.factories import PASSWORD, student_with_answer
from webapp.grading import notebook as nbg

pytestmark = pytest.mark.browser

MEAN = "def mean(xs):\n    return sum(xs) / len(xs)  # from JupyterLab"


def editor_text(page: Page, grade_id: str) -> str:
    return str(
        page.locator(f".CodeMirror[data-grade-id={grade_id}]").evaluate(
            "el => el.CodeMirror.getValue()"
        )
    )


def stored_copy(page: Page) -> dict[str, object]:
    """The editors' copy in this browser's localStorage."""
    raw = page.evaluate(
        "() => localStorage.getItem("
        "document.querySelector('[data-testid=answer-bar]').dataset.storageKey)"
    )
    return dict(json.loads(raw))


def put_copy(page: Page, copy: dict[str, object]) -> None:
    page.evaluate(
        "copy => localStorage.setItem("
        "document.querySelector('[data-testid=answer-bar]').dataset.storageKey, "
        "JSON.stringify(copy))",
        copy,
    )


def test_the_download_holds_what_was_typed_in_the_editors(
    page: Page, org: Org, catalog: dict[str, int]
) -> None:
    log_in(page, org.engineer.email, PASSWORD)
    page.goto(f"/workshops/tiny/notebooks/{catalog['tiny']}")
    page.locator(".CodeMirror[data-grade-id=impl_mean]").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("  # typed in the browser")
    expect(page.locator("#draft-status")).to_contain_text("saved at")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download .ipynb").click()
    nb = nbformat.read(download.value.path(), as_version=4)
    [mean] = [c.source for c in nb.cells if nbg.grade_id(c) == "impl_mean"]
    assert mean.endswith("  # typed in the browser")


def test_loading_an_upload_fills_the_editors_over_an_older_unsent_copy(
    page: Page, org: Org, catalog: dict[str, int]
) -> None:
    notebook_id = catalog["tiny"]
    log_in(page, org.engineer.email, PASSWORD)
    page.goto(f"/workshops/tiny/notebooks/{notebook_id}")
    expect(page.locator(".CodeMirror").first).to_be_visible()
    old = stored_copy(page)
    put_copy(page, {**old, "synced": False, "answers": {"impl_mean": "stale = True"}})

    upload = page.get_by_test_id("upload-form")
    upload.get_by_label("Completed notebook (.ipynb)").set_input_files(
        files=[
            {
                "name": "means.ipynb",
                "mimeType": "application/x-ipynb+json",
                "buffer": student_with_answer(notebook_id, "impl_mean", MEAN),
            }
        ]
    )
    upload.get_by_label("What to do").select_option(label="Load into the editors")
    upload.get_by_role("button", name="Upload").click()

    expect(page.get_by_text("answers are in the editors and saved")).to_be_visible()
    assert editor_text(page, "impl_mean") == MEAN  # the newer server draft won
    page.reload()
    assert editor_text(page, "impl_mean") == MEAN
    screenshot(page, "notebook-loaded-upload")


def test_a_copy_typed_while_the_server_was_unreachable_survives_a_reload(
    page: Page, org: Org, catalog: dict[str, int]
) -> None:
    log_in(page, org.engineer.email, PASSWORD)
    page.goto(f"/workshops/tiny/notebooks/{catalog['tiny']}")
    expect(page.locator(".CodeMirror").first).to_be_visible()
    copy = stored_copy(page)  # typed over the server's current draft (there is none yet)
    put_copy(page, {**copy, "synced": False, "answers": {"impl_mean": "offline = True"}})
    page.reload()
    assert editor_text(page, "impl_mean") == "offline = True"
    expect(page.locator("#draft-status")).to_contain_text("saved at")  # and it is sent now
    page.reload()
    assert editor_text(page, "impl_mean") == "offline = True"
