"""The read-only JSON API for HR and BI tools, authenticated by per-user API tokens.

``Authorization: Bearer <token>`` is read by a Flask-Login request loader, so the app's
default-deny hook sees a logged-in user; the blueprint then also refuses cookie sessions, so a
browser session cannot be used against the API. CSRF does not apply: nothing here changes state.
The token management pages live on their own blueprint under /account/api-tokens.
"""

from flask import Blueprint

from webapp.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api")
tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")
csrf.exempt(bp)

from webapp.api import auth, tokens, views  # noqa: E402,F401
