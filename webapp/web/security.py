"""Response headers that keep pages to the app's own origin."""

from __future__ import annotations

from flask import Response, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response: Response) -> Response:
    """``after_request`` hook: CSP, no sniffing, no framing, and a strict referrer policy."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    return response


def close_unsent_body(response: Response) -> Response:
    """``after_request`` hook: a 304 (or HEAD) answer never sends its body, and Werkzeug then never
    closes it either; close a static file's handle now instead of leaving it to the garbage
    collector."""
    if response.status_code in (204, 304) or request.method == "HEAD":
        response.close()
    return response
