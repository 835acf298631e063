"""Projects, requirements and assignments: gap computation, permissions, CSV import and export."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy import func, select

from tests.conftest import Org
from tests.factories import make_user
from tests.staffing_factories import (
    give_level,
    make_project,
    make_skill,
)
from webapp.db import db as _db
from webapp.models import (
    AuditEvent,
    Project,
    ProjectAssignment,
    ProjectRequirement,
    RoleProfileSkill,
)
from webapp.services.errors import Conflict, InvalidInput, PermissionDenied, RowErrors
from webapp.services.staffing import csv_io, gaps, records
from webapp.services.staffing.gaps import RequirementRow, compute_gaps


def req(i: int, level: int, heads: int) -> RequirementRow:
    return RequirementRow(i, 1, "P", 1, "T", date(2026, 3, 1), i, f"S{i}", level, heads, 3, 100)


def test_gap_counts_only_assignees_at_the_level_and_charges_the_shortfall() -> None:
    reqs = [req(1, 3, 2), req(2, 4, 1), req(3, 2, 1)]
    # req 0: levels 3 and 2 -> one qualified, one slot missing one level
    # req 1: level 1 -> one slot missing three levels; req 2: nobody -> two levels short
    qualified, missing, shortfall = compute_gaps(reqs, np.array([0, 0, 1]), np.array([3, 2, 1]))
    assert qualified.tolist() == [1, 0, 0]
    assert missing.tolist() == [1, 1, 1]
    assert shortfall.tolist() == [1, 3, 2]


def test_gap_is_zero_when_more_people_qualify_than_asked() -> None:
    qualified, missing, shortfall = compute_gaps([req(1, 2, 1)], np.array([0, 0]), np.array([5, 4]))
    assert (qualified[0], missing[0], shortfall[0]) == (2, 0, 0)


def test_project_gaps_use_the_assignees_current_levels(org: Org) -> None:
    ml, data = make_skill("ml", "Modelling"), make_skill("data", "Data quality")
    give_level(org.engineer, ml, 2, days_ago=100)
    give_level(org.engineer, ml, 4)  # newer manager assessment wins
    give_level(org.teammate, data, 1)
    make_project(org.team, needs=((ml, 3, 1), (data, 3, 2)), people=(org.engineer, org.teammate))
    rows = gaps.gaps(_db.session, viewer=None, team_ids=[org.team.id], with_assignees=True)
    by_skill = {g.req.skill_name: g for g in rows}
    assert by_skill["Modelling"].met and by_skill["Modelling"].qualified == 1
    assert by_skill["Data quality"].missing == 2
    assert by_skill["Data quality"].shortfall == 2 + 3  # teammate at 1, then nobody
    assert [a.name for a in by_skill["Modelling"].assignees][0] == "Eve Engineer"


def test_organisation_report_rolls_gaps_up_per_project_and_skill(org: Org) -> None:
    ml = make_skill("ml", "Modelling")
    make_project(org.team, "A", needs=((ml, 3, 2),))
    make_project(org.other_team, "B", needs=((ml, 2, 1),))
    rows = gaps.gaps(_db.session, viewer=None)
    assert [(p.project_name, p.missing) for p in gaps.by_project(rows)] == [
        ("A", 2),
        ("B", 1),
    ]
    [skill] = gaps.by_skill(rows)
    assert (skill.skill_name, skill.projects, skill.missing) == ("Modelling", 2, 3)


def test_archived_projects_leave_the_gap_report(org: Org) -> None:
    ml = make_skill("ml")
    project = make_project(org.team, needs=((ml, 3, 1),))
    records.archive_project(_db.session, project.id, actor=org.manager)
    assert gaps.gaps(_db.session, viewer=None) == []


def test_manager_changes_only_their_teams_projects(org: Org) -> None:
    project = records.create_project(
        _db.session,
        actor=org.manager,
        name="Churn",
        team_id=org.team.id,
        start_date=date(2026, 5, 1),
    )
    with pytest.raises(PermissionDenied):
        records.create_project(
            _db.session,
            actor=org.manager,
            name="X",
            team_id=org.other_team.id,
            start_date=date(2026, 5, 1),
        )
    with pytest.raises(PermissionDenied):
        records.archive_project(_db.session, project.id, actor=org.other_manager)
    with pytest.raises(PermissionDenied):
        records.get_project(_db.session, project.id, org.engineer)
    assert records.get_project(_db.session, project.id, org.admin) is project


def test_project_names_are_unique_and_requirements_are_checked(org: Org) -> None:
    skill = make_skill("ml")
    project = make_project(org.team, "Churn")
    with pytest.raises(Conflict):
        records.create_project(
            _db.session, actor=org.admin, name="Churn", team_id=org.team.id, start_date=date.today()
        )
    with pytest.raises(InvalidInput, match="minimum level"):
        records.set_requirement(
            _db.session, actor=org.manager, project_id=project.id, skill_id=skill.id, min_level=6
        )
    records.set_requirement(
        _db.session, actor=org.manager, project_id=project.id, skill_id=skill.id, min_level=3
    )
    records.set_requirement(
        _db.session,
        actor=org.manager,
        project_id=project.id,
        skill_id=skill.id,
        min_level=4,
        headcount=2,
    )
    [row] = _db.session.scalars(select(ProjectRequirement)).all()
    assert (row.min_level, row.headcount) == (4, 2)
    actions = set(_db.session.scalars(select(AuditEvent.action)))
    assert "requirement.set" in actions


def test_exported_requirements_import_back_unchanged(org: Org) -> None:
    ml = make_skill("ml")
    make_project(org.team, "Churn", needs=((ml, 3, 2),), people=(org.engineer,))
    text = csv_io.export(_db.session, "requirements", [org.team.id])
    assert text.splitlines() == [
        "project,skill,min_level,headcount,importance,allocation_pct",
        "Churn,ml,3,2,3,100",
    ]
    assert csv_io.import_csv(_db.session, text, "requirements", actor=org.manager).rows == 1
    assignments = csv_io.export(_db.session, "assignments", None)
    assert "Churn,eve@example.com,50" in assignments


def test_import_with_any_bad_row_stores_nothing_and_names_each_line(org: Org) -> None:
    make_skill("ml")
    text = (
        "name,team,start_date,status\n"
        "Churn,Applied ML,2026-04-01,planned\n"
        "Fraud,Nowhere,2026-04-01,planned\n"
        "Churn,Applied ML,2026-05-01,active\n"
        "Scale,Applied ML,next week,planned\n"
        "Infra,Platform,2026-04-01,planned\n"
    )
    with pytest.raises(RowErrors) as caught:
        csv_io.import_csv(_db.session, text, "projects", actor=org.manager)
    lines = dict(caught.value.errors)
    assert set(lines) == {3, 4, 5, 6}
    assert "no team called 'Nowhere'" in lines[3]
    assert "first on line 2" in lines[4]
    assert "date" in lines[5]
    assert "do not manage" in lines[6]
    assert _db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_import_rejects_a_file_without_the_needed_columns(org: Org) -> None:
    with pytest.raises(InvalidInput, match="missing: email"):
        csv_io.import_csv(
            _db.session, "project,allocation_pct\nA,5\n", "assignments", actor=org.admin
        )


def test_import_refuses_a_column_it_would_ignore_and_lists_the_columns(org: Org) -> None:
    with pytest.raises(InvalidInput, match="“person”. The columns are project, email"):
        csv_io.import_csv(_db.session, "project,person\nA,b\n", "assignments", actor=org.admin)


def test_import_finds_teams_and_projects_whatever_their_case_and_spacing(org: Org) -> None:
    ml = make_skill("ml")
    text = "name,team,start_date\nChurn  Model, applied ml ,2026-04-01\n"
    csv_io.import_csv(_db.session, text, "projects", actor=org.manager)
    text = "project,skill,min_level\nCHURN model,ml,3\n"
    csv_io.import_csv(_db.session, text, "requirements", actor=org.manager)
    [project] = _db.session.scalars(select(Project)).all()
    assert (project.name, project.team_id) == ("Churn  Model", org.team.id)
    [need] = _db.session.scalars(select(ProjectRequirement)).all()
    assert (need.project_id, need.skill_id) == (project.id, ml.id)


def test_import_refuses_names_longer_than_the_database_holds(org: Org) -> None:
    text = f"name,team,start_date\n{'P' * 161},Applied ML,2026-04-01\n"
    with pytest.raises(RowErrors) as caught:
        csv_io.import_csv(_db.session, text, "projects", actor=org.manager)
    assert caught.value.errors == [(2, "the project name is longer than 160 characters")]
    assert _db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_profile_import_creates_profiles_and_targets(org: Org) -> None:
    make_skill("ml")
    text = "profile,skill,level\nML engineer,ml,3\n"
    csv_io.import_csv(_db.session, text, "profiles", actor=org.manager)
    [target] = _db.session.scalars(select(RoleProfileSkill)).all()
    assert (target.profile.name, target.level) == ("ML engineer", 3)
    with pytest.raises(InvalidInput):
        csv_io.import_csv(_db.session, text, "profiles", actor=org.engineer)


def test_assigning_a_deactivated_person_is_refused(org: Org) -> None:
    gone = make_user(name="Gone", active=False, team=org.team)
    project = make_project(org.team)
    with pytest.raises(Exception, match="deactivated"):
        records.assign(_db.session, actor=org.manager, project_id=project.id, user_id=gone.id)


def test_managers_put_only_their_teams_people_on_projects(org: Org) -> None:
    project = make_project(org.team)
    records.assign(_db.session, actor=org.manager, project_id=project.id, user_id=org.teammate.id)
    with pytest.raises(PermissionDenied, match="Ask their manager or an admin to assign them"):
        records.assign(
            _db.session, actor=org.manager, project_id=project.id, user_id=org.other_engineer.id
        )
    records.assign(
        _db.session, actor=org.admin, project_id=project.id, user_id=org.other_engineer.id
    )
    people = set(_db.session.scalars(select(ProjectAssignment.user_id)))
    assert people == {org.teammate.id, org.other_engineer.id}


def test_assignment_import_refuses_people_of_other_teams_and_stores_nothing(org: Org) -> None:
    make_project(org.team, "Probe")
    text = "project,email\nProbe,eve@example.com\nProbe,pat@example.com\n"
    with pytest.raises(RowErrors) as caught:
        csv_io.import_csv(_db.session, text, "assignments", actor=org.manager)
    assert caught.value.errors == [
        (
            3,
            "pat@example.com is not in a team you manage: you can put only the people of your "
            "own teams on projects. Ask their manager or an admin to assign them.",
        )
    ]
    assert _db.session.scalar(select(func.count()).select_from(ProjectAssignment)) == 0
    assert csv_io.import_csv(_db.session, text, "assignments", actor=org.admin).rows == 2


@pytest.mark.parametrize("level", [1, 3, 5])
def test_gap_figures_never_reveal_the_level_of_someone_from_another_team(
    org: Org, level: int
) -> None:
    ml, data = make_skill("ml", "Modelling"), make_skill("data", "Data quality")
    give_level(org.other_engineer, ml, level)
    give_level(org.other_engineer, data, level)
    project = make_project(org.team, "Probe", needs=((ml, 3, 1), (data, 5, 1)))
    records.assign(
        _db.session, actor=org.admin, project_id=project.id, user_id=org.other_engineer.id
    )
    mine = gaps.gaps(_db.session, viewer=org.manager, project_ids=[project.id], with_assignees=True)
    # whatever Pat's level, the manager reads the figures of a project nobody of theirs is on
    assert {
        g.req.skill_name: (g.qualified, g.missing, g.shortfall, g.not_counted) for g in mine
    } == {
        "Modelling": (0, 1, 3, 1),
        "Data quality": (0, 1, 5, 1),
    }
    assert [(a.name, a.level, a.hidden) for a in mine[0].assignees] == [
        ("Pat Platform", None, True)
    ]
    admins = {
        g.req.skill_name: g
        for g in gaps.gaps(_db.session, viewer=org.admin, project_ids=[project.id])
    }
    # Pat counts toward one requirement at most (one role per project): Data quality first
    # (listed first at equal importance) when he holds level 5.
    assert admins["Modelling"].qualified == int(3 <= level < 5)
    assert admins["Data quality"].qualified == int(level >= 5)
    assert admins["Modelling"].not_counted == 0
