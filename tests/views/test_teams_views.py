"""Team pages: managers see and download their teams, nobody else's."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import AuthActions, Org


def test_a_manager_downloads_their_teams_and_members_as_csv(
    client: FlaskClient, auth: AuthActions, org: Org
) -> None:
    auth.login(org.manager.email)
    teams_csv = client.get("/teams/export.csv").get_data(as_text=True).removeprefix("\ufeff")
    assert teams_csv.splitlines() == ["team,engineers,managers,projects", "Applied ML,2,1,0"]
    members = client.get(f"/teams/{org.team.id}/members.csv").get_data(as_text=True)
    assert "Eve Engineer,eve@example.com,engineer" in members
    assert "pat@example.com" not in members  # another team's engineer
