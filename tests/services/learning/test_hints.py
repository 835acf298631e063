"""Hints as evidence: the hints an engineer used to earn each workshop pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import Org
from tests.factories import SkillKit
from webapp.db import db as _db
from webapp.models import Submission
from webapp.services.learning import hints

PASSED = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def test_a_pass_counts_the_hints_of_every_notebook_of_its_workshop_seen_before_it(
    org: Org, skill_kit: SkillKit
) -> None:
    bias = skill_kit.skill("bias")
    earned = skill_kit.evidence(org.engineer, bias, 3, "workshop", at=PASSED)
    claimed = skill_kit.evidence(org.engineer, bias, 4, "self", at=PASSED)
    passed_on = _db.session.get(Submission, earned.submission_id)
    assert passed_on is not None
    other = skill_kit.other_notebook(passed_on.notebook_id)
    skill_kit.hints_revealed(org.engineer, passed_on.notebook_id, [PASSED - timedelta(hours=2)])
    skill_kit.hints_revealed(
        org.engineer, other, [PASSED - timedelta(days=1), PASSED, PASSED + timedelta(hours=1)]
    )
    skill_kit.hints_revealed(org.teammate, other, [PASSED - timedelta(hours=1)])

    used = hints.hints_behind_evidence(_db.session, user_id=org.engineer.id)

    assert used == {earned.id: 3}, "both notebooks, up to the pass, only Eve's"
    assert claimed.id not in used
    assert hints.hints_behind_evidence(_db.session, user_id=org.teammate.id) == {}


def test_a_pass_earned_without_hints_has_no_count(org: Org, skill_kit: SkillKit) -> None:
    bias = skill_kit.skill("bias")
    earned = skill_kit.evidence(org.engineer, bias, 3, "workshop", at=PASSED)
    passed_on = _db.session.get(Submission, earned.submission_id)
    assert passed_on is not None
    skill_kit.hints_revealed(org.engineer, passed_on.notebook_id, [PASSED + timedelta(days=2)])

    assert hints.hints_behind_evidence(_db.session, user_id=org.engineer.id) == {}
