"""Device cookies: a signed note, kept by a browser that logged in to an account, that lets it
past that account's login back-off (services/people/throttle). It proves only that this browser
logged in before; it never logs anyone in."""

from __future__ import annotations

from flask import Request, current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response

COOKIE = "skillforge_device"
SALT = "skillforge-device"
MAX_AGE_S = 90 * 24 * 60 * 60
MAX_ACCOUNTS = 5


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.config["SECRET_KEY"]), salt=SALT)


def trusted_ids(request: Request) -> list[int]:
    """The accounts this browser has logged in to (newest first), if its cookie is genuine."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    try:
        ids = _signer().loads(raw, max_age=MAX_AGE_S)
    except BadSignature:
        return []
    return [int(i) for i in ids if isinstance(i, int)][:MAX_ACCOUNTS]


def remember(response: Response, request: Request, user_id: int) -> None:
    ids = [user_id] + [i for i in trusted_ids(request) if i != user_id]
    response.set_cookie(
        COOKIE,
        _signer().dumps(ids[:MAX_ACCOUNTS]),
        max_age=MAX_AGE_S,
        httponly=True,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        samesite="Lax",
    )
