"""One place that turns errors into pages (inside the layout) or JSON, with what to do next."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.db import db
from webapp.services.errors import DomainError
from webapp.web.limits import retry_in

ADVICE = {
    400: "Check what you sent and try again.",
    401: "Send a valid API token in the Authorization header.",
    403: "You do not have access to this page. Ask your manager or an admin if you need it.",
    404: "Check the address, or start again from the home page.",
    405: "This address does not accept that kind of request.",
    409: "Reload the page to see the current state, then try again.",
    413: "The file is larger than the upload limit; make it smaller and try again.",
    429: "Too many attempts. Wait a minute, then try again.",
    500: "Something went wrong on our side. Try again; if it keeps happening, tell an admin.",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def render_error(status: int, title: str, message: str) -> ResponseReturnValue:
    advice = ADVICE.get(status, "")
    if wants_json():
        return jsonify(error=title, message=message, status=status), status
    page = render_template(
        "errors/error.html", status=status, title=title, message=message, advice=advice
    )
    return page, status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> ResponseReturnValue:
        return render_error(
            400,
            "The form could not be accepted",
            f"{exc.description} Reload the page and submit the form again.",
        )

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> ResponseReturnValue:
        db.session.rollback()
        return render_error(exc.status, "That could not be done", exc.message)

    @app.errorhandler(RateLimitExceeded)
    def rate_limited(exc: RateLimitExceeded) -> ResponseReturnValue:
        db.session.rollback()
        return render_error(
            429,
            "Too many attempts",
            f"You reached the limit of {exc.limit.limit} for this. Wait {retry_in()}, then try "
            "again; nothing from the refused request was kept.",
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        if exc.code is None or exc.code < 400:
            return exc
        return render_error(exc.code, exc.name, exc.description or "")

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError) -> ResponseReturnValue:
        db.session.rollback()
        return render_error(500, "Internal error", "The server could not finish your request.")
