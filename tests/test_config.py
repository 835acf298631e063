"""Configuration chain and instance defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from webapp import create_app


def test_env_vars_override_defaults_and_test_config_overrides_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SKILLFORGE_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    monkeypatch.setenv("SKILLFORGE_SECRET_KEY", "from-env")
    monkeypatch.setenv("SKILLFORGE_MIN_AGGREGATE_GROUP", "7")
    app = create_app({"SECRET_KEY": "from-test"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.db")
    assert app.config["SECRET_KEY"] == "from-test"
    assert app.config["MIN_AGGREGATE_GROUP"] == 7


def test_redis_url_moves_rate_limits_to_redis(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SKILLFORGE_REDIS_URL", "redis://127.0.0.1:6379/0")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "SECRET_KEY": "k"}
    )
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path: Path) -> None:
    from webapp import _instance_secret

    key_file = tmp_path / "secret_key"
    first = _instance_secret(key_file)
    assert len(first) == 64 and key_file.stat().st_mode & 0o777 == 0o600
    assert _instance_secret(key_file) == first


def test_sqlite_default_has_foreign_keys_and_wal(tmp_path: Path) -> None:
    from sqlalchemy import text

    from webapp.db import db

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fk.db'}", "SECRET_KEY": "k"}
    )
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    with app.app_context():
        db.engine.dispose()
