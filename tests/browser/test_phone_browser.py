"""In a real browser on a phone-sized screen (390 x 844): the sticky answer bar leaves the work in
view, and no page an engineer works on scrolls sideways because of a table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import Org
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 390, 844


@pytest.fixture()
def phone(browser: Browser, live_server: str, db: object) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server,
        viewport={"width": WIDTH, "height": HEIGHT},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert not errors, f"the browser reported errors: {errors}"


def covered_by_bar(page: Page) -> float:
    """How many CSS pixels of the screen the answer bar covers now."""
    return float(
        page.evaluate(
            """() => {
              const r = document.querySelector("[data-testid=answer-bar]").getBoundingClientRect();
              return Math.max(0, Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0));
            }"""
        )
    )


def test_answer_bar_covers_at_most_a_fifth_of_a_phone_screen_anywhere_in_the_notebook(
    phone: Page, org: Org, catalog: dict[str, int]
) -> None:
    log_in(phone, org.engineer.email, PASSWORD)
    phone.goto(f"/workshops/tiny/notebooks/{catalog['tiny']}")
    expect(phone.locator(".CodeMirror").first).to_be_visible()
    assert phone.evaluate(
        "getComputedStyle(document.querySelector('[data-testid=answer-bar]')).position"
    ) in ("sticky", "fixed"), "the bar stays in reach while the engineer scrolls"
    full = float(phone.evaluate("document.documentElement.scrollHeight"))
    for share in (0, 0.25, 0.5, 0.75, 1):
        phone.evaluate(f"window.scrollTo(0, {share} * document.documentElement.scrollHeight)")
        covered = covered_by_bar(phone)
        assert covered <= HEIGHT / 5, f"at {share:.0%} of {full:.0f}px the bar covers {covered}px"
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "phone-notebook")


def tables_out_of_bounds(page: Page) -> list[str]:
    """Tables that stick out of the screen: a table in a scroll container (``.table-responsive``)
    may be wider than it, but the container must fit; any other table must fit itself."""
    found: list[str] = page.evaluate(
        """() => {
          const out = [];
          for (const table of document.querySelectorAll("table")) {
            let box = table;
            for (let el = table.parentElement; el && el !== document.body; el = el.parentElement) {
              const overflow = getComputedStyle(el).overflowX;
              if (overflow === "auto" || overflow === "scroll") { box = el; break; }
            }
            const right = box.getBoundingClientRect().right;
            if (right > window.innerWidth + 0.5) {
              out.push((table.dataset.testid || "a table") + " ends at " + right);
            }
          }
          return out;
        }"""
    )
    return found


@pytest.mark.parametrize("path", ["home", "workshop", "notebook"])
def test_no_page_scrolls_sideways_on_a_phone(
    phone: Page, org: Org, catalog: dict[str, int], path: str
) -> None:
    log_in(phone, org.engineer.email, PASSWORD)
    url = {
        "home": "/",
        "workshop": "/workshops/tiny",
        "notebook": f"/workshops/tiny/notebooks/{catalog['tiny']}",
    }[path]
    phone.goto(url)
    expect(phone.get_by_role("heading", level=1).first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= WIDTH
    assert phone.locator("table").count() >= 1  # each of these pages has a table to check
    assert tables_out_of_bounds(phone) == []
    screenshot(phone, f"phone-{path}")
