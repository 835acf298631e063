"""Rate limits on the state-changing routes that cost the server work: per signed-in user (so
one person's script cannot crowd out the rest, and people behind one proxy do not share a
budget), else per client address. Counts live in the limiter's storage: Redis when
``REDIS_URL`` is set (shared by every process), else each process's memory."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from webapp.extensions import limiter


def per_user() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{get_remote_address()}"


def limited(config_key: str) -> Callable[[Any], Any]:
    """``@limited("SUBMIT_RATE_LIMIT")``: the POSTs of a route, at the configured rate."""
    return limiter.limit(
        lambda: str(current_app.config[config_key]), key_func=per_user, methods=["POST"]
    )


def retry_in() -> str:
    """When the limit that was just hit lets the next request through, in words."""
    current = limiter.current_limit
    if current is None:
        return "a minute"
    seconds = max(1, math.ceil(current.reset_at - time.time()))
    return f"{seconds} second{'s' if seconds != 1 else ''}"
