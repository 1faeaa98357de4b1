"""rich_text blocks (what people's messages are made of) as HTML.

The emulator accepts any JSON inside a rich_text block (it checks only the element count), so
this walks whatever it finds: known element types become markup, anything else its text or
nothing, and nesting deeper than MAX_DEPTH is cut off rather than overflowing the stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.emulator.web.emoji import emoji
from bot.emulator.web.html import Html, esc, external_link, h, join, safe_url
from bot.emulator.web.mrkdwn import plain
from bot.emulator.web.picks import as_dict, as_list
from bot.emulator.web.viewer import Viewer

MAX_DEPTH = 12
_STYLE_TAGS = (("code", "code"), ("bold", "strong"), ("italic", "em"), ("strike", "del"))


def rich_text(block: Mapping[str, Any], viewer: Viewer) -> Html:
    return h("div", {"class": "bk-rich"}, _children(block, viewer, 0))


def _children(node: Mapping[str, Any], viewer: Viewer, depth: int) -> Html:
    return join(_node(child, viewer, depth + 1) for child in as_list(node.get("elements")))


def _node(value: object, viewer: Viewer, depth: int) -> Html:
    if depth > MAX_DEPTH:
        return esc("…")
    node = as_dict(value)
    kind = node.get("type")
    if kind == "rich_text_section":
        return h("div", None, _children(node, viewer, depth))
    if kind == "rich_text_preformatted":
        return h("pre", None, _children(node, viewer, depth))
    if kind == "rich_text_quote":
        return h("blockquote", None, _children(node, viewer, depth))
    if kind == "rich_text_list":
        tag = "ol" if node.get("style") == "ordered" else "ul"
        items = [h("li", None, _node(i, viewer, depth + 1)) for i in as_list(node.get("elements"))]
        return h(tag, None, *items)
    return _styled(_leaf(node, viewer), as_dict(node.get("style")))


def _styled(inner: Html, style: Mapping[str, Any]) -> Html:
    for key, tag in _STYLE_TAGS:
        if style.get(key) is True:
            inner = h(tag, None, inner)
    return inner


def _leaf(node: Mapping[str, Any], viewer: Viewer) -> Html:
    kind = node.get("type")
    text = node.get("text") if isinstance(node.get("text"), str) else ""
    if kind == "link":
        url = safe_url(node.get("url"))
        label = text or str(node.get("url") or "")
        return external_link(url, label) if url else esc(label)
    if kind == "user":
        return _mention("@" + viewer.user_name(str(node.get("user_id", ""))))
    if kind == "channel":
        channel = str(node.get("channel_id", ""))
        name = "#" + viewer.channel_name(channel)
        return h("a", {"class": "mention", "href": viewer.page_url(channel)}, name)
    if kind == "usergroup":
        group = str(node.get("usergroup_id", ""))
        return _mention("@" + viewer.usergroups.get(group, group).lstrip("@"))
    if kind == "broadcast":
        return _mention("@" + str(node.get("range", "here")))
    if kind == "emoji":
        return esc(emoji(str(node.get("name", ""))))
    if kind == "date":
        return esc(_date(node, viewer))
    return plain(str(text), emoji=False)


def _mention(text: str) -> Html:
    return h("span", {"class": "mention"}, text)


def _date(node: Mapping[str, Any], viewer: Viewer) -> str:
    stamp = node.get("timestamp")
    if isinstance(stamp, int | float) and not isinstance(stamp, bool):
        try:
            return datetime.fromtimestamp(stamp, viewer.tz).strftime("%Y-%m-%d %H:%M")
        except (ValueError, OverflowError, OSError):
            pass
    fallback = node.get("fallback")
    return fallback if isinstance(fallback, str) else ""
