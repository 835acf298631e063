"""JSON request bodies: parsed only when nested no deeper than the configured bound."""

from __future__ import annotations

import json
from typing import Any

from webapp.grading.wellformed import too_deep
from webapp.services.errors import InvalidInput


def json_object(text: str, *, max_depth: int, message: str) -> dict[str, Any]:
    """``text`` as a JSON object; raises InvalidInput(``message``) for anything else, including
    JSON nested deeper than ``max_depth`` (found in one pass before parsing, as Python's parser
    recurses once per level and would fail with a RecursionError, a 500)."""
    if too_deep(text, max_depth) is not None:
        raise InvalidInput(message)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(message) from exc
    if not isinstance(value, dict):
        raise InvalidInput(message)
    return value
