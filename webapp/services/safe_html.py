"""THE sanitiser of untrusted HTML (notebooks, their outputs, hints): nh3 with an allow-list.

Untrusted HTML cannot dress as the app: ``style`` never passes; of ``class`` only the names
nbconvert, Pygments and the live outputs emit pass (never the app's Bootstrap classes); every
``id`` is moved into its own namespace (``user-content-…``, which the app's ids never use), and
links to one (``#…``) with it, so no notebook can take an id the page's scripts look for.
"""

from __future__ import annotations

import re

import nh3
from pygments.token import STANDARD_TYPES

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
ID_PREFIX = "user-content-"
NOTEBOOK_CLASSES = frozenset(
    {
        "anchor-link",
        "border-box-sizing",
        "cell",
        "code_cell",
        "dataframe",
        "highlight",
        "inner_cell",
        "input",
        "input_area",
        "input_prompt",
        "output",
        "output_area",
        "output_prompt",
        "output_subarea",
        "output_wrapper",
        "prompt",
        "raw_cell",
        "rendered",
        "rendered_html",
        "text_cell",
        "text_cell_render",
        "unconfined",
    }
)
LIVE_CLASSES = frozenset(
    f"live-{kind}" for kind in ("stdout", "stderr", "error", "text", "html", "latex", "note")
)
PYGMENTS_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name) | {"hll"}
CLASS_RE = re.compile(
    r"^(output_[a-z_]+|ansi-[a-z]+(-[a-z]+)*|hl-[a-z0-9_+-]+|nb-align-(left|right|center))$"
)
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
    if name == "class":
        kept = [c for c in value.split() if allowed_class(c)]
        return " ".join(kept) or None
    if name == "id":
        return rendered_id(value)
    if name == "href" and value.startswith("#"):
        return "#" + ID_PREFIX + value[1:]
    if tag == "img" and name == "src":
        return value if IMAGE_DATA_RE.match(value.strip()) else None
    if name == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


def allowed_class(name: str) -> bool:
    """A class untrusted HTML may carry: one of nbconvert's, Pygments' or the live outputs'."""
    return (
        name in NOTEBOOK_CLASSES
        or name in LIVE_CLASSES
        or name in PYGMENTS_CLASSES
        or CLASS_RE.match(name) is not None
    )


def rendered_id(value: str) -> str:
    """The id an element of untrusted HTML gets on the page for its own ``id`` of ``value``
    (a rendered notebook's cell ``cell-id=<nbformat id>`` becomes ``user-content-cell-id=…``)."""
    return ID_PREFIX + value
