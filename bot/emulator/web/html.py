"""Safe-by-default HTML building: every string is escaped unless it is already `Html`.

Message text, button labels, channel names and modal values are attacker-controlled (anyone
who can post to Slack, or send Seawall an alert, chooses them). Instead of remembering to
escape at each use, the renderer builds markup with `h()`, which escapes every plain `str`
child and attribute value; only markup built here is marked `Html` and passed through.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

SAFE_SCHEMES = ("http", "https", "mailto")
# Elements that have no closing tag.
_VOID = frozenset({"br", "hr", "input", "meta", "link", "img"})

AttrValue = str | int | bool | None


class Html(str):
    """Markup produced by this package: already escaped, included as it is."""

    __slots__ = ()


def esc(text: object) -> Html:
    """Any value as text inside HTML (quotes too, so it is also safe in an attribute)."""
    return Html(html.escape(str(text), quote=True))


def join(parts: Iterable[str | Html | None], sep: str = "") -> Html:
    """Concatenate, escaping every part that is not already Html."""
    return Html(esc(sep).join(_piece(p) for p in parts if p is not None))


def _piece(part: str | Html) -> str:
    return part if isinstance(part, Html) else esc(part)


def _attrs(attrs: Mapping[str, AttrValue]) -> str:
    out = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        # Names come from this package's code, never from data; the trailing _ lets callers
        # write class_ / for_ for Python keywords.
        key = name.rstrip("_").replace("_", "-")
        out.append(f" {key}" if value is True else f' {key}="{esc(value)}"')
    return "".join(out)


def h(tag: str, attrs: Mapping[str, AttrValue] | None = None, *children: str | Html | None) -> Html:
    """An element: h("a", {"href": url}, "label") -> <a href="...">label</a>, all escaped."""
    opening = f"<{tag}{_attrs(attrs or {})}>"
    if tag in _VOID:
        return Html(opening)
    return Html(f"{opening}{join(children)}</{tag}>")


def safe_url(url: object) -> str | None:
    """The URL when a click on it can only open a page or a mail client, else None:
    `javascript:`, `data:` and friends never become a link."""
    if not isinstance(url, str) or not url.strip():
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return url.strip()


def external_link(
    url: str,
    *children: str | Html | None,
    class_: str | None = None,
    extra: Mapping[str, AttrValue] | None = None,
) -> Html:
    """A link that opens in a new tab and tells the target nothing about this page."""
    attrs = {"href": url, "target": "_blank", "rel": "noopener noreferrer", "class": class_}
    return h("a", {**attrs, **(extra or {})}, *children)
