"""In a real browser: a manager goes from the team matrix to a project's gaps to the plan, watches
a worker compute it, reloads, downloads it as CSV and accepts two lines, which the engineer named in
one of them sees on their home page."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot
from tests.conftest import Org
from tests.factories import PASSWORD
from tests.staffing_factories import (
    give_level,
    make_levels,
    make_project,
    make_skill,
    make_workshop,
)
from webapp import jobs
from webapp.db import db as _db
from webapp.extensions import queue

pytestmark = pytest.mark.browser


def test_manager_computes_a_plan_reloads_accepts_two_lines_and_the_engineer_sees_one(
    page: Page, org: Org, app: Flask
) -> None:
    make_levels()
    skill = make_skill("interpretability", "Model interpretability")
    data = make_skill("dq", "Data quality")
    make_workshop("interpretability-in-practice", skill, 3, hours=6)
    make_workshop("data-quality-at-scale", data, 3, hours=5)
    give_level(org.engineer, skill, 2)
    # One person holds one role per project: Eve and Tom take one each. Tom's 0.5 h a week give
    # him 5 h before the start, enough for Data quality (5 h), not Model interpretability (6 h).
    org.teammate.learning_hours_per_week = 0.5
    make_project(org.team, needs=((skill, 3, 1), (data, 3, 1)), people=(org.engineer,))
    _db.session.commit()

    log_in(page, org.manager.email, PASSWORD)
    page.goto(f"/teams/{org.team.id}/matrix")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Skill matrix")
    page.get_by_role("link", name="Staffing").click()
    page.get_by_role("link", name="Churn model").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Churn model")
    gaps = page.get_by_test_id("gaps")
    expect(gaps).to_contain_text("1 missing")
    expect(gaps).to_contain_text("Eve Engineer (2)")
    screenshot(page, "staffing-project-gaps")

    page.get_by_role("link", name="Training plan for Applied ML").click()
    page.get_by_role("button", name="Compute the plan").click()
    # No worker is running yet: the page says the plan waits, and updates itself once one runs.
    expect(page.get_by_test_id("plan-progress")).to_contain_text("Waiting for a worker")
    jobs.bind_app(app)
    worker = queue.create_consumer(workers=1, worker_type="thread", periodic=False)
    worker.start()
    try:
        lines = page.get_by_test_id("plan-lines")
        expect(lines).to_contain_text(
            "Eve Engineer reaches Competent in Model interpretability for Churn model",
            timeout=30_000,
        )
    finally:
        worker.stop(graceful=True)
        queue.flush()
    expect(page.get_by_test_id("plan-progress")).to_have_count(0)
    expect(page.get_by_test_id("plan-status")).to_contain_text("Optimal")
    screenshot(page, "staffing-plan")

    page.reload()  # the plan is stored: every reload (and every server process) shows it
    expect(page.get_by_test_id("plan-lines")).to_contain_text("Eve Engineer reaches Competent")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the plan as CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert re.fullmatch(rf"plan-team-{org.team.id}-\d+\.csv", download.value.suggested_filename)
    assert text.splitlines()[0].startswith("engineer,project,skill,level")
    assert "Interpretability In Practice" in text

    form = page.get_by_test_id("accept-form")
    boxes = form.get_by_role("checkbox")
    expect(boxes).to_have_count(2)
    boxes.nth(0).check()
    boxes.nth(1).check()
    form.get_by_role("button", name="Accept the ticked lines").click()
    expect(page.get_by_role("alert").filter(has_text="Accepted 2 lines")).to_be_visible()
    expect(page.get_by_test_id("training-table")).to_contain_text("Interpretability In Practice")
    expect(page.get_by_test_id("training-tally")).to_contain_text("On track: 2")
    expect(page.locator("#training-timeline[data-ready=true]")).to_have_count(1)
    screenshot(page, "staffing-training-progress")

    page.get_by_role("button", name="Log out").click()
    log_in(page, org.engineer.email, PASSWORD)
    assigned = page.get_by_test_id("assigned-training")
    expect(assigned).to_contain_text("Interpretability In Practice")
    expect(assigned).to_contain_text("for Churn model: Competent in Model interpretability")
    expect(assigned).to_contain_text("assigned by Mia Manager")
    screenshot(page, "engineer-assigned-training")
