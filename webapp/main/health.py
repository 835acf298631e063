"""Liveness and readiness: what a load balancer or an orchestrator asks before sending traffic.

``/healthz`` says the process answers. ``/readyz`` asks every part a request may need — the
database, the job queue, Redis when one is configured and a grading worker's heartbeat — and
answers 503 naming the parts that do not answer, so a deployment can tell "up" from "able to
grade". The live-kernel hosts, when configured, are reported but do not make it 503: without
them engineers cannot run cells, yet every page and Submit still work. Details stay short: no
addresses, no errors' text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from flask import Flask
from sqlalchemy import text

from webapp.db import db
from webapp.extensions import queue
from webapp.kernels.client import GatewayClient, Host, HostUnavailable
from webapp.services.learning import workers
from webapp.services.words import count
from webapp.settings import settings_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True  # counts for readiness; the others are reported only


def readiness(app: Flask) -> list[Check]:
    checks = [_database(), _queue()]
    url = app.config.get("REDIS_URL")
    if url:
        checks.append(_redis(url))
    checks.append(_grading())
    live = settings_of(app).live
    if live.hosts:
        checks.append(_live_hosts(live.hosts, live.token))
    return checks


def _database() -> Check:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except Exception as exc:
        db.session.rollback()
        log.warning("readiness: the database does not answer: %s", exc)
        return Check("database", False, "does not answer")
    return Check("database", True, "answers")


def _queue() -> Check:
    try:
        waiting = queue.pending_count()
    except Exception as exc:
        log.warning("readiness: the job queue does not answer: %s", exc)
        return Check("queue", False, "does not answer")
    return Check("queue", True, f"{count(waiting, 'job')} waiting")


def _redis(url: str) -> Check:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        log.warning("readiness: Redis does not answer: %s", exc)
        return Check("redis", False, "does not answer")
    return Check("redis", True, "answers")


def _grading() -> Check:
    try:
        alive = workers.live(db.session(), now=datetime.now(UTC))
        db.session.rollback()
    except Exception:
        db.session.rollback()
        return Check("grading", False, "unknown: the database does not answer")
    if not alive:
        stale = int(workers.STALE_AFTER.total_seconds())
        return Check("grading", False, f"no grading worker has reported in the last {stale} s")
    return Check("grading", True, f"{count(alive, 'worker')} reporting")


def _live_hosts(hosts: tuple[str, ...], token: str) -> Check:
    answering = 0
    for url in hosts:
        try:
            GatewayClient(Host(url, token), timeout=1).status()
            answering += 1
        except HostUnavailable:
            pass
    return Check(
        "live_kernels",
        answering > 0,
        f"{answering} of {count(len(hosts), 'host')} answering",
        required=False,
    )
