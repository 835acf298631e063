"""In a real browser: an engineer types answers, they survive a reload, Submit grades them
through the queue and the sandbox, and the page shows the grade and the newly verified skill."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import Org
from tests.factories import PASSWORD, fixture_catalog

pytestmark = [pytest.mark.browser, pytest.mark.sandbox]


def replace_last_line(page: Page, grade_id: str, text: str) -> None:
    """Type over the stub's last line in the answer editor, as a person would."""
    editor = page.locator(f".CodeMirror[data-grade-id={grade_id}]")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Shift+Home")
    page.keyboard.type(text)


def test_engineer_types_submits_and_sees_grade_and_verified_skill(
    page: Page, org: Org, consumer: None
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    log_in(page, org.engineer.email, PASSWORD)
    page.goto(f"/workshops/tiny/notebooks/{notebook_id}")
    replace_last_line(page, "impl_mean", "return sum(xs) / len(xs)")
    expect(page.locator("#draft-status")).to_contain_text("saved at")
    page.reload()  # the answer was autosaved
    expect(page.locator(".CodeMirror[data-grade-id=impl_mean]")).to_contain_text(
        "return sum(xs) / len(xs)"
    )
    replace_last_line(
        page, "impl_var", "return sum((x - mean(xs)) ** 2 for x in xs) / (len(xs) - 1)"
    )
    screenshot(page, "notebook-editor")
    page.get_by_role("button", name="Submit").click()
    status = page.get_by_test_id("grading-status")
    page.wait_for_url("**/submissions/*")
    page.evaluate("window.stillTheSamePage = true")  # gone if the page reloads
    expect(status).to_contain_text("Graded", timeout=90_000)
    expect(page.get_by_test_id("score")).to_have_text("3 / 3")
    expect(page.get_by_test_id("verified")).to_contain_text("at level 2")
    assert page.evaluate("window.stillTheSamePage === true"), "the results came without a reload"
    screenshot(page, "submission-graded")
    page.get_by_role("link", name="See your skills").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "my-skills-after-pass")


def test_wrong_answer_shows_which_exercise_failed_and_why(
    page: Page, org: Org, consumer: None
) -> None:
    notebook_id = fixture_catalog()["tiny"]
    log_in(page, org.engineer.email, PASSWORD)
    page.goto(f"/workshops/tiny/notebooks/{notebook_id}")
    replace_last_line(page, "impl_mean", "return sum(xs) / (len(xs) + 1)")
    page.get_by_role("button", name="Run tests").click()
    expect(page.get_by_test_id("grading-status")).to_contain_text("Graded", timeout=90_000)
    results = page.get_by_test_id("results")
    expect(results.locator("tr.result-failed")).to_have_count(2)
    expect(results).to_contain_text("AssertionError")
    expect(page.get_by_text("Test runs do not count")).to_be_visible()
    screenshot(page, "submission-failed")
