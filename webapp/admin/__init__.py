"""Organisation setup for admins: users, roster import, the audit log."""

from flask import Blueprint

from webapp.services.access import policy
from webapp.web.access import me

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only() -> None:
    """Every admin page is for admins only (login is enforced app-wide before this runs)."""
    policy.require_admin(me())


from webapp.admin import import_views, people_views, views  # noqa: E402,F401
