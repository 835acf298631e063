"""The database: the typed declarative base of every model, and Flask-SQLAlchemy's ``db``."""

from __future__ import annotations

from typing import Any, TypeAlias

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase, scoped_session
from sqlalchemy.orm import Session as OrmSession

# What services take: a plain Session (CLI, jobs, tests) or the app's scoped ``db.session``, which
# proxies every Session method. One alias, so the views' calls type-check without casts.
Session: TypeAlias = OrmSession | scoped_session[Any]

# Deterministic constraint names, so migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every Skillforge model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
