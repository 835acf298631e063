"""Template helpers: the role-based navigation and small formatting filters."""

from __future__ import annotations

from flask import Flask, url_for

from webapp.services.learning.overview import ProgressRow
from webapp.services.words import count

ALL = ("engineer", "manager", "admin")
# (endpoint, label, roles that see it), in menu order.
NAV_ITEMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("main.home", "Home", ALL),
    ("learn.catalog", "Workshops", ALL),
    ("skills.mine", "My skills", ALL),
    ("skills.gaps", "My gaps", ALL),
    ("skills.team_index", "Team skills", ("manager", "admin")),
    ("learn.review_queue", "Reviews", ("manager", "admin")),
    ("staffing.projects", "Staffing", ("manager", "admin")),
]
# The admin's pages, grouped under one "Admin" menu so the bar stays one line.
ADMIN_ITEMS: list[tuple[str, str]] = [
    ("admin.users", "People"),
    ("admin.import_roster", "Import roster"),
    ("admin.tokens", "All API tokens"),
    ("admin.audit_log", "Audit log"),
    ("admin.catalog_admin", "Catalog"),
    ("admin.grading", "Grading"),
    ("admin.backup", "Backup"),
]
# Everyone's own account, under their name.
ACCOUNT_ITEMS: list[tuple[str, str]] = [
    ("auth.change_password", "Password"),
    ("auth.my_sessions", "Sessions"),
    ("api_tokens.index", "API tokens"),
]


def progress_cells(row: ProgressRow) -> list[str]:
    passed = row.passed_at.strftime("%Y-%m-%d") if row.passed_at else "not yet"
    return [row.workshop_title, str(row.attempts), f"{row.best_score:.0%}", passed]


def asset_url(path: str) -> str:
    """URL of a front-end package file copied into static/build/ by ``python -m webapp.assets``."""
    return url_for("static", filename=f"build/{path}")


def register_templating(app: Flask) -> None:
    app.jinja_env.filters["progress_cells"] = progress_cells
    app.jinja_env.filters["counted"] = lambda n, noun, plural=None: count(int(n), noun, plural)
    app.jinja_env.globals["asset_url"] = asset_url

    @app.context_processor
    def navigation() -> dict[str, object]:
        known = app.view_functions
        return {
            "nav_items": lambda: [i for i in NAV_ITEMS if i[0] in known],
            "admin_items": lambda: [i for i in ADMIN_ITEMS if i[0] in known],
            "account_items": lambda: [i for i in ACCOUNT_ITEMS if i[0] in known],
        }
