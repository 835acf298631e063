"""Response headers that keep pages to the app's own origin."""

from __future__ import annotations

from flask import Response, current_app, request
from flask_login import current_user

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


# The browser features no page needs: denied to the app and anything it embeds.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "serial",
        "bluetooth",
        "display-capture",
        "interest-cohort",
    )
)
HSTS = "max-age=31536000; includeSubDomains"


def set_security_headers(response: Response) -> Response:
    """``after_request`` hook: CSP, no sniffing, no framing, a strict referrer policy, no browser
    features, HSTS when the app is served over HTTPS, and no caching of signed-in pages (a
    shared computer's back button or cache never shows someone else's data)."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    if current_app.config.get("PREFERRED_URL_SCHEME") == "https":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if current_user.is_authenticated and not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")  # unless the view chose one
    return response


def close_unsent_body(response: Response) -> Response:
    """``after_request`` hook: a 304 (or HEAD) answer never sends its body, and Werkzeug then never
    closes it either; close a static file's handle now instead of leaving it to the garbage
    collector."""
    if response.status_code in (204, 304) or request.method == "HEAD":
        response.close()
    return response
