"""The one access policy: each rule, for each kind of actor, on a real database."""

from __future__ import annotations

import pytest

from tests.conftest import Org
from tests.factories import make_team, make_user
from webapp.db import db as _db
from webapp.models import Role, TeamMembership
from webapp.services.access import policy
from webapp.services.errors import PermissionDenied


def test_roles_are_told_apart_and_admins_pass_manager_rules(org: Org) -> None:
    assert [policy.is_admin(u) for u in (org.engineer, org.manager, org.admin)] == [
        False,
        False,
        True,
    ]
    assert [policy.is_manager(u) for u in (org.engineer, org.manager, org.admin)] == [
        False,
        True,
        False,
    ]
    assert [policy.is_manager_or_admin(u) for u in (org.engineer, org.manager, org.admin)] == [
        False,
        True,
        True,
    ]
    policy.require_manager(org.manager)
    policy.require_manager(org.admin)
    policy.require_admin(org.admin)
    with pytest.raises(PermissionDenied, match="Only managers and admins can plan"):
        policy.require_manager(org.engineer, "plan")
    with pytest.raises(PermissionDenied, match="Only admins"):
        policy.require_admin(org.manager)


def test_team_scope_is_everything_for_admins_managed_teams_for_managers_none_for_engineers(
    org: Org,
) -> None:
    s = _db.session
    assert policy.team_scope(s, org.admin) is None
    assert policy.team_scope(s, org.manager) == {org.team.id}
    assert policy.team_scope(s, org.other_manager) == {org.other_team.id}
    assert policy.team_scope(s, org.engineer) == set()


def test_an_engineer_demoted_from_manager_keeps_no_team_scope(org: Org) -> None:
    # the membership still says "manager", but the role decides: engineers see no team
    org.manager.role = Role.ENGINEER.value
    _db.session.flush()
    assert policy.team_scope(_db.session, org.manager) == set()
    assert not policy.can_view_team(_db.session, org.manager, org.team.id)


def test_can_view_team(org: Org) -> None:
    s = _db.session
    assert policy.can_view_team(s, org.manager, org.team.id)
    assert not policy.can_view_team(s, org.manager, org.other_team.id)
    assert policy.can_view_team(s, org.admin, org.other_team.id)
    assert not policy.can_view_team(s, org.engineer, org.team.id)
    with pytest.raises(PermissionDenied, match="Pick one of your teams"):
        policy.require_team_view(s, org.manager, org.other_team.id)


def test_can_view_engineer(org: Org) -> None:
    s = _db.session
    assert policy.can_view_engineer(s, org.engineer, org.engineer.id)  # themself
    assert not policy.can_view_engineer(s, org.engineer, org.teammate.id)
    assert policy.can_view_engineer(s, org.manager, org.engineer.id)
    assert not policy.can_view_engineer(s, org.manager, org.other_engineer.id)
    assert policy.can_view_engineer(s, org.admin, org.other_engineer.id)
    with pytest.raises(PermissionDenied, match="Pick someone from one of your teams"):
        policy.require_engineer_view(s, org.manager, org.other_engineer.id)


def test_a_manager_of_two_teams_sees_both_teams_people(org: Org) -> None:
    s = _db.session
    third = make_team("Research")
    newcomer = make_user(name="Nia New", email="nia@example.com", team=third)
    assert not policy.can_view_engineer(s, org.manager, newcomer.id)
    s.add(TeamMembership(team_id=third.id, user_id=org.manager.id, is_manager=True))
    s.flush()
    assert policy.can_view_engineer(s, org.manager, newcomer.id)
    assert policy.team_scope(s, org.manager) == {org.team.id, third.id}


def test_managers_staff_and_see_the_levels_of_their_teams_people_only(org: Org) -> None:
    s = _db.session
    mine = {org.engineer.id, org.teammate.id, org.manager.id}
    assert policy.staffable_ids(s, org.manager) == mine
    assert policy.people_scope(s, org.manager) == mine
    assert policy.staffable_ids(s, org.admin) is None and policy.people_scope(s, org.admin) is None
    assert policy.staffable_ids(s, org.engineer) == set()
    assert policy.people_scope(s, org.engineer) == {org.engineer.id}
    assert policy.can_staff(s, org.manager, org.teammate.id)
    assert not policy.can_staff(s, org.manager, org.other_engineer.id)
    assert not policy.can_staff(s, org.engineer, org.engineer.id)
    assert policy.can_staff(s, org.admin, org.other_engineer.id)
    with pytest.raises(PermissionDenied, match="Pat Platform is not in a team you manage"):
        policy.require_staff(s, org.manager, org.other_engineer)


def test_can_assess_only_others_in_managed_teams(org: Org) -> None:
    s = _db.session
    assert policy.can_assess(s, org.manager, org.engineer.id)
    assert not policy.can_assess(s, org.manager, org.manager.id)  # never themself
    assert not policy.can_assess(s, org.manager, org.other_engineer.id)
    assert not policy.can_assess(s, org.engineer, org.teammate.id)
    assert policy.can_assess(s, org.admin, org.other_engineer.id)
    with pytest.raises(PermissionDenied, match="may assess them"):
        policy.require_assess(s, org.other_manager, org.engineer.id)


def test_reviewers_grade_their_engineers_but_not_fellow_managers_or_themselves(org: Org) -> None:
    s = _db.session
    assert policy.reviewable_engineer_ids(s, org.manager) == {org.engineer.id, org.teammate.id}
    assert policy.reviewable_engineer_ids(s, org.admin) is None
    assert policy.reviewable_engineer_ids(s, org.engineer) == set()
    assert policy.can_review(s, org.manager, org.engineer.id)
    assert not policy.can_review(s, org.manager, org.other_engineer.id)
    assert not policy.can_review(s, org.manager, org.manager.id)
    assert not policy.can_review(s, org.engineer, org.teammate.id)
    assert policy.can_review(s, org.admin, org.other_engineer.id)
    with pytest.raises(PermissionDenied, match="grade this answer"):
        policy.require_review(s, org.other_manager, org.engineer.id)


def test_submissions_are_their_authors_and_admins_only(org: Org) -> None:
    assert policy.can_view_submission(org.engineer, org.engineer.id)
    assert not policy.can_view_submission(org.teammate, org.engineer.id)
    # not even the manager: the feedback holds the hidden tests' results
    assert not policy.can_view_submission(org.manager, org.engineer.id)
    assert policy.can_view_submission(org.admin, org.engineer.id)
    with pytest.raises(PermissionDenied, match="belongs to someone else"):
        policy.require_submission_view(org.manager, org.engineer.id)


def test_workshop_scores_are_the_engineers_and_admins_not_their_managers(org: Org) -> None:
    assert policy.can_view_scores(org.engineer, org.engineer.id)
    assert not policy.can_view_scores(org.manager, org.engineer.id)
    assert not policy.can_view_scores(org.teammate, org.engineer.id)
    assert policy.can_view_scores(org.admin, org.engineer.id)


def test_tokens_are_their_owners_and_admins_to_manage(org: Org) -> None:
    assert policy.can_manage_token(org.engineer, org.engineer.id)
    assert not policy.can_manage_token(org.manager, org.engineer.id)
    assert policy.can_manage_token(org.admin, org.engineer.id)
