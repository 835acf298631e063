"""Skillforge: team learning and skills tracking for ML engineering organisations.

``create_app`` builds the Flask application; importing this package does no work.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

CONFIG_ENV_PREFIX = "SKILLFORGE_"
# Environment variables whose names differ from the config keys they set.
ENV_ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then SKILLFORGE_* variables, then tests."""
    app = Flask(__name__, instance_relative_config=True)
    _load_config(app, test_config)
    _build_settings(app)
    _register_extensions(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_hooks(app)
    _register_queue(app)
    _register_cli(app)
    if int(app.config.get("TRUSTED_PROXIES") or 0) > 0:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    return app


def _load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_object("webapp.config")
    app.config.from_pyfile("config.py", silent=True)
    for name, value in os.environ.items():
        if name.startswith(CONFIG_ENV_PREFIX):
            key = name.removeprefix(CONFIG_ENV_PREFIX)
            app.config[ENV_ALIASES.get(key, key)] = _parse_env(value)
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_file = Path(app.instance_path) / "skillforge.db"
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_file}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    if app.config.get("PREFERRED_URL_SCHEME") == "https":  # served over TLS: cookies never in clear
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        from webapp.web.ratelimit_store import uri_for

        shared = uri_for(Path(app.instance_path) / "ratelimits.sqlite3")
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or shared
    if app.config.get("COURSES_PATH") is None:
        app.config["COURSES_PATH"] = str(Path(app.root_path).parent / "courses")
    if not app.config.get("RENDER_CACHE_PATH"):
        app.config["RENDER_CACHE_PATH"] = str(Path(app.instance_path) / "render-cache")


def _parse_env(value: str) -> Any:
    """Environment values are strings; accept true/false and integers for switches and sizes."""
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered.isdigit():
        return int(lowered)
    return value


def _instance_secret(path: Path) -> str:
    """The secret key generated once into the instance folder (mode 0600) and reused after."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _build_settings(app: Flask) -> None:
    """Read the config once into the frozen settings that views, jobs and commands pass on."""
    from webapp import settings

    app.extensions[settings.EXTENSION_KEY] = settings.from_config(app.config)


def _register_extensions(app: Flask) -> None:
    from webapp import models  # noqa: F401  (registers every table on the metadata)
    from webapp.db import db
    from webapp.extensions import bootstrap, csrf, limiter, login_manager, migrate
    from webapp.services.people import passwords
    from webapp.sqlite import configure_sqlite

    passwords.use_profile(app.config["PASSWORD_HASH_PROFILE"])
    db.init_app(app)
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    from webapp.web.uploads import allow_larger_imports

    app.before_request(allow_larger_imports)  # before CSRF's check reads the form
    csrf.init_app(app)
    import webapp.web.ratelimit_store  # noqa: F401  (registers the shared local store's scheme)

    limiter.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> models.User | None:
        """The user of this browser's open server-side session (``web.signin``), else None."""
        from webapp.web import signin

        return signin.user_of_request(int(user_id))


class _Id(IntegerConverter):
    """``<int:…>`` in every route: at most a 64-bit signed integer, so a larger id is a 404,
    never a database overflow."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


def _register_blueprints(app: Flask) -> None:
    from webapp import admin, api, auth, learn, main, skills, staffing, teams

    app.url_map.converters["int"] = _Id
    for module in (auth, main, admin, teams, skills, learn, staffing, api):
        app.register_blueprint(module.bp)
    app.register_blueprint(api.tokens_bp)


def _register_errors(app: Flask) -> None:
    from webapp.web.errors import register_error_handlers

    register_error_handlers(app)


def _register_hooks(app: Flask) -> None:
    from webapp.web.access import enforce_login
    from webapp.web.security import close_unsent_body, set_security_headers
    from webapp.web.templating import register_templating

    app.before_request(enforce_login)
    app.after_request(set_security_headers)
    app.after_request(close_unsent_body)
    register_templating(app)


def _register_queue(app: Flask) -> None:
    """The first app of a process chooses the queue's storage; later ones leave it alone."""
    from webapp.jobs import configure_queue_once

    configure_queue_once(app)


def _register_cli(app: Flask) -> None:
    from webapp.cli import register_commands

    register_commands(app)
