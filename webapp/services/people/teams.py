"""Teams: their members and managers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from webapp.db import Session
from webapp.models import Team, TeamMembership, User
from webapp.services.errors import NotFound
from webapp.services.rows import labelled, rows_into


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    email: str
    role: str
    is_manager: bool


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"There is no team {team_id}.")
    return team


def members(session: Session, team_id: int) -> list[Member]:
    rows = session.execute(
        select(
            *labelled(
                Member,
                id=User.id,
                name=User.display_name,
                email=User.email,
                role=User.role,
                is_manager=TeamMembership.is_manager,
            )
        )
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.team_id == team_id)
        .order_by(TeamMembership.is_manager.desc(), User.display_name)
    )
    return rows_into(Member, rows)
