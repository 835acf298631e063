"""Organisation setup for admins: users, roster import, the audit log."""

from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only() -> None:
    """Every admin page is for admins only (login is enforced app-wide before this runs)."""
    if not current_user.is_authenticated or current_user.role != "admin":
        abort(403)


from webapp.admin import views  # noqa: E402,F401
