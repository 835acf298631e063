"""In a real browser: axe-core (installed from npm, served by the app from its own origin) finds
no serious or critical accessibility problems on the pages an engineer works on, and the answer
editors never trap the keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import log_in
from tests.conftest import Org
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

AXE_URL = "/static/build/axe/axe.min.js"  # webapp/assets.py copies it there from node_modules


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations axe reports on the page, with the elements hit."""
    page.add_script_tag(url=AXE_URL)  # same origin: the page's CSP allows it, as it would a user's
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const result = await window.axe.run(document, { resultTypes: ["violations"] });
          return result.violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                         nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5) }));
        }"""
    )
    return found


def editor_text(editor: Locator) -> str:
    return str(editor.evaluate("el => el.CodeMirror.getValue()"))


def in_editor(page: Page, grade_id: str) -> bool:
    return bool(
        page.evaluate(
            f"document.activeElement.closest('.CodeMirror[data-grade-id={grade_id}]') !== null"
        )
    )


def follows(page: Page, element: Locator) -> bool:
    """Whether the focused element comes after ``element`` in the document."""
    return bool(
        element.evaluate(
            "el => !!(el.compareDocumentPosition(document.activeElement)"
            " & Node.DOCUMENT_POSITION_FOLLOWING)"
        )
    )


def engineer_pages(catalog: dict[str, int]) -> dict[str, str]:
    return {
        "home": "/",
        "workshop": "/workshops/tiny",
        "notebook": f"/workshops/tiny/notebooks/{catalog['tiny']}",
    }


@pytest.mark.parametrize("name", ["home", "workshop", "notebook"])
def test_engineer_pages_have_no_serious_or_critical_axe_violations(
    page: Page, org: Org, catalog: dict[str, int], name: str
) -> None:
    log_in(page, org.engineer.email, PASSWORD)
    page.goto(engineer_pages(catalog)[name])
    if name == "notebook":
        expect(page.locator(".CodeMirror").first).to_be_visible()  # the editors are in place
    assert axe_violations(page) == []


def test_esc_then_tab_leaves_an_answer_editor_and_tab_alone_indents(
    page: Page, org: Org, catalog: dict[str, int]
) -> None:
    log_in(page, org.engineer.email, PASSWORD)
    page.goto(f"/workshops/tiny/notebooks/{catalog['tiny']}")
    expect(page.get_by_text("Press Esc then Tab to leave an editor")).to_be_visible()
    editor = page.locator(".CodeMirror[data-grade-id=impl_mean]")
    editor.click()
    page.keyboard.press("Control+End")
    before = editor_text(editor)
    page.keyboard.press("Tab")  # indents: the focus stays in the editor
    assert in_editor(page, "impl_mean")
    assert editor_text(editor) == before + "    "

    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert not in_editor(page, "impl_mean"), "Esc then Tab moves the focus out of the editor"
    assert follows(page, editor), "...forwards, to the next control"

    editor.click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Tab")
    assert not in_editor(page, "impl_mean"), "Esc then Shift+Tab moves the focus out too"
    assert not follows(page, editor), "...backwards, to the control before the editor"

    editor.click()
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowLeft")  # any other key disarms Esc: Tab indents again
    page.keyboard.press("Tab")
    assert in_editor(page, "impl_mean")


def test_the_answer_editors_are_labelled_for_screen_readers(
    page: Page, org: Org, catalog: dict[str, int]
) -> None:
    log_in(page, org.engineer.email, PASSWORD)
    page.goto(f"/workshops/tiny/notebooks/{catalog['tiny']}")
    field = page.locator(".CodeMirror[data-grade-id=impl_mean] textarea")
    expect(field).to_have_attribute("aria-label", "Answer impl_mean")
    expect(field).to_have_attribute("aria-describedby", "editor-keys")
