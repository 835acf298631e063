"""Existing assignments under the capacity rules: gap figures count a person once per project,
within their availability, and the project page lists what breaks the rules."""

from __future__ import annotations

import numpy as np

from tests.conftest import Org
from tests.staffing_factories import give_level, make_project, make_skill
from webapp.db import db as _db
from webapp.models import ProjectAssignment
from webapp.services.staffing import availability, gaps, violations


def test_count_once_finds_the_most_slots_with_one_role_per_person() -> None:
    # Requirements 0 and 1 of one project; Ana (1) qualifies for both, Ben (2) for 0 only:
    # Ana must take 1 so that Ben can take 0, though 0 is served first.
    pair_req, pair_user = np.array([0, 1, 0]), np.array([1, 1, 2])
    holds = availability.count_once(pair_req, pair_user, np.ones(3, bool), [7, 7], [1, 1])
    assert holds.tolist() == [False, True, True]
    # On two different projects Ana may count on both.
    holds = availability.count_once(pair_req, pair_user, np.ones(3, bool), [7, 8], [1, 1])
    assert holds.tolist() == [True, True, False]


def test_a_person_qualified_for_two_requirements_counts_toward_one(org: Org) -> None:
    ml, data = make_skill("ml", "Modelling"), make_skill("data", "Data quality")
    give_level(org.engineer, ml, 4)
    give_level(org.engineer, data, 4)
    make_project(org.team, needs=((ml, 3, 1), (data, 3, 1)), people=(org.engineer,), allocation=100)
    rows = gaps.gaps(_db.session, viewer=org.manager, team_ids=[org.team.id], with_assignees=True)
    assert sum(g.qualified for g in rows) == 1 and sum(g.missing for g in rows) == 1
    assert violations.violations(_db.session, rows) == [
        "Eve Engineer is qualified for 2 roles on Churn model (Data quality and Modelling) but "
        "holds one role per project: counted toward Data quality only."
    ]


def test_assignments_over_availability_are_named_with_each_share(org: Org) -> None:
    ml = make_skill("ml", "Modelling")
    give_level(org.engineer, ml, 3)
    churn = make_project(org.team, needs=((ml, 3, 1),), people=(org.engineer,), allocation=100)
    make_project(org.team, "Fraud", people=(org.engineer,), allocation=50)
    rows = gaps.gaps(_db.session, viewer=org.manager, project_ids=[churn.id], with_assignees=True)
    assert [g.qualified for g in rows] == [1]  # the role is within the 100 % she has there
    assert violations.violations(_db.session, rows) == [
        "Eve Engineer is assigned 150 % of their time across Churn model (100 %) and Fraud "
        "(50 %), over their availability of 100 %."
    ]


def test_a_role_asking_more_time_than_is_free_does_not_count(org: Org) -> None:
    ml = make_skill("ml", "Modelling")
    give_level(org.engineer, ml, 3)
    org.engineer.availability_pct = 50
    churn = make_project(org.team, needs=((ml, 3, 1),), people=(org.engineer,), allocation=50)
    rows = gaps.gaps(_db.session, viewer=org.manager, project_ids=[churn.id], with_assignees=True)
    assert [(g.qualified, g.missing) for g in rows] == [(0, 1)]
    assert [a.no_time for a in rows[0].assignees] == [True]
    assert violations.violations(_db.session, rows) == [
        "Eve Engineer is qualified for Modelling, but its 100 % of their time would take them "
        "over their availability of 50 % (assigned 50 % in all, 50 % here): not counted."
    ]
    # With the time to raise the assignment, she counts, and the page says to raise it.
    org.engineer.availability_pct = 100
    rows = gaps.gaps(_db.session, viewer=org.manager, project_ids=[churn.id], with_assignees=True)
    assert [(g.qualified, g.missing) for g in rows] == [(1, 0)]
    assert violations.violations(_db.session, rows) == [
        "Eve Engineer counts toward Modelling, which asks 100 % of their time, but is assigned "
        "50 % to Churn model: raise the assignment to 100 %."
    ]


def test_people_from_teams_the_viewer_does_not_manage_are_not_checked(org: Org) -> None:
    ml = make_skill("ml", "Modelling")
    churn = make_project(org.team, needs=((ml, 3, 1),))
    for pct, project in ((100, churn), (100, make_project(org.other_team, "Elsewhere"))):
        _db.session.add(
            ProjectAssignment(
                project_id=project.id, user_id=org.other_engineer.id, allocation_pct=pct
            )
        )
    _db.session.flush()
    mine = gaps.gaps(_db.session, viewer=org.manager, project_ids=[churn.id], with_assignees=True)
    assert violations.violations(_db.session, mine) == []
    everyone = gaps.gaps(_db.session, viewer=org.admin, project_ids=[churn.id], with_assignees=True)
    assert violations.violations(_db.session, everyone) == [
        "Pat Platform is assigned 200 % of their time across Churn model (100 %) and Elsewhere "
        "(100 %), over their availability of 100 %."
    ]
