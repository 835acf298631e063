"""In a real browser, on real kernel hosts: an engineer runs cells, plots in a scratch cell,
checks an exercise that fails and then passes, interrupts an endless loop, restarts, and submits."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import log_in, screenshot
from tests.browser.test_grading_browser import replace_last_line
from tests.conftest import FIXTURE_COURSES, KERNEL_TOKEN, Org
from tests.factories import PASSWORD, first_notebook_ids
from tests.test_jobs import wait_for
from webapp.db import db as _db
from webapp.kernels import client as gateway
from webapp.models import LiveKernel, Notebook
from webapp.services.catalog import worked

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]


@pytest.fixture()
def tiny(
    live: list[str],
    app: Flask,
    tmp_path: Path,
    override_settings: Callable[..., None],
    consumer: None,
) -> Iterator[int]:
    """The fixture course with a worked example that plots (its last cell), synced as an admin
    would, its outputs made by the grading worker."""
    courses = tmp_path / "courses"
    shutil.copytree(FIXTURE_COURSES, courses)
    path = courses / "tiny" / "01-basics.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.show()",
            metadata={
                "nbgrader": {
                    "grade": False,
                    "solution": False,
                    "locked": True,
                    "task": False,
                    "grade_id": "plot",
                    "schema_version": 3,
                }
            },
        )
    )
    nbformat.write(nb, path)
    override_settings(COURSES_PATH=str(courses))
    synced = app.test_cli_runner().invoke(args=["courses", "sync"])
    assert synced.exit_code == 0, synced.output
    notebook = first_notebook_ids()["tiny"]
    wait_for(
        lambda: worked.shown(_db.session, current_hash(notebook)).outputs_key is not None,
        "the worked examples' outputs",
    )
    yield notebook
    for row in _db.session.scalars(select(LiveKernel)).all():
        gateway.GatewayClient(gateway.Host(row.host, KERNEL_TOKEN)).shutdown(row.kernel_id)
    gateway.close_all()


def cell(page: Page, n: int):  # noqa: ANN201 - a Playwright locator
    """The n-th code cell (1-based) of the rendered notebook."""
    return page.locator("#notebook .code_cell").nth(n - 1)


def current_hash(notebook_id: int) -> str:
    return _db.session.scalar(select(Notebook.current_hash).where(Notebook.id == notebook_id)) or ""


def test_engineer_runs_plots_checks_interrupts_restarts_and_submits(
    page: Page, org: Org, tiny: int
) -> None:
    log_in(page, org.engineer.email, PASSWORD)
    page.goto(f"/workshops/tiny/notebooks/{tiny}")
    state = page.get_by_test_id("kernel-state")
    expect(state).to_have_text("No kernel")
    # The worked example's plot is there before anything runs.
    expect(cell(page, 6).locator(".output_wrapper img")).to_be_visible()

    cell(page, 1).get_by_role("button", name="Run cell 1").click()  # import math: starts a kernel
    expect(cell(page, 1).locator(".input_prompt")).to_have_text("In [1]:", timeout=60_000)
    expect(state).to_have_text("Idle")

    cell(page, 1).get_by_role("button", name="Add a scratch cell below cell 1").click()
    scratch = page.get_by_test_id("scratch-cell")
    page.keyboard.type("import matplotlib.pyplot as plt")
    page.keyboard.press("Enter")
    page.keyboard.type("plt.plot([1, 3, 2])")
    page.keyboard.press("Enter")
    page.keyboard.type("plt.show()")
    page.keyboard.press("Shift+Enter")
    expect(scratch.locator(".live-output img[alt='Plot output']")).to_be_visible(timeout=60_000)

    replace_last_line(page, "impl_mean", "return 0")
    check = cell(page, 3).get_by_test_id("check")
    check.click()
    result = cell(page, 3).get_by_test_id("check-result")
    expect(result).to_contain_text("Not yet", timeout=30_000)
    expect(result).to_contain_text("assert mean([1, 2, 3]) == 2")
    panel = page.get_by_test_id("exercise-panel").first  # the first exercise's: the mean
    panel.get_by_test_id("show-hint").click()
    expect(panel).to_contain_text("Python has sum and len.")
    screenshot(page, "live-check-failed")

    replace_last_line(page, "impl_mean", "return sum(xs) / len(xs)")
    check.click()
    expect(result).to_contain_text("Passed the visible tests", timeout=30_000)

    scratch.locator(".CodeMirror").click()
    page.keyboard.press("Control+a")
    page.keyboard.type("while True:")
    page.keyboard.press("Enter")
    page.keyboard.type("pass")
    scratch.get_by_role("button", name="Run scratch cell").click()
    expect(state).to_have_text("Busy")
    page.get_by_role("button", name="Interrupt").click()
    expect(scratch.locator(".live-output")).to_contain_text("KeyboardInterrupt", timeout=30_000)
    expect(state).to_have_text("Idle")

    page.get_by_role("button", name="Restart").click()
    expect(page.get_by_test_id("kernel-message")).to_contain_text("Kernel restarted")
    screenshot(page, "live-notebook")

    replace_last_line(
        page, "impl_var", "return sum((x - mean(xs)) ** 2 for x in xs) / (len(xs) - 1)"
    )
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/submissions/*")
    expect(page.get_by_test_id("score")).to_have_text("3 / 3", timeout=90_000)
    page.goto("/workshops/tiny")
    exercises = page.get_by_test_id("exercises")
    expect(exercises).to_contain_text("Passed in a graded submission")
    expect(exercises).to_contain_text("used 1 of 2 hints")
