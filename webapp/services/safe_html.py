"""THE sanitiser of untrusted HTML (notebooks, their outputs, hints): nh3 with an allow-list."""

from __future__ import annotations

import re

import nh3

TAGS = nh3.ALLOWED_TAGS | {"img", "figure", "figcaption", "details", "summary"}
DROPPED_WITH_CONTENT = {"script", "style", "svg", "math", "iframe", "object", "embed", "template"}
GLOBAL_ATTRIBUTES = {"class", "id", "title", "lang", "dir", "role", "aria-hidden", "aria-label"}
ATTRIBUTES = {
    "*": GLOBAL_ATTRIBUTES,
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
# SVG only as an image: inside <img> a browser runs none of its script and loads nothing it names.
IMAGE_DATA_RE = re.compile(r"^data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]+$")


def clean(html: str) -> str:
    """Keep only allow-listed tags and attributes; images only as inline data URIs."""
    return nh3.clean(
        html,
        tags=TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto", "data"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """Images only as inline ``data:`` URIs (raster, or SVG as an image); ``data:`` nowhere else.

    An image URL would make every viewer's browser request it (on this origin, as the CSP allows
    no other), so a submitted notebook could not use one to probe the app on a viewer's behalf.
    """
    if tag == "img" and name == "src":
        return value if IMAGE_DATA_RE.match(value.strip()) else None
    if name == "href" and value.strip().lower().startswith("data:"):
        return None
    return value
