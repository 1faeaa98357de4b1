"""Block Kit layouts as HTML: every block type the emulator's validator accepts (blocks.py),
and a message's text and legacy attachments.

Pure functions of the stored JSON. The validator checks only some fields, so everything is
read defensively: a field of an unexpected type renders as nothing rather than raising
(tests/unit/emulator/web/test_renderer_agrees_with_validator.py holds the two together).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.emulator.web.element_html import Ctx, element, elements_row, image, rich, text_of
from bot.emulator.web.html import Html, external_link, h, join, safe_url
from bot.emulator.web.mrkdwn import mrkdwn, plain
from bot.emulator.web.picks import as_dict, as_list
from bot.emulator.web.rich_text import rich_text

_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_MD_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_MD_HEADING = re.compile(r"^#{1,6} +(.*)$", re.MULTILINE)
_COLORS = ("good", "warning", "danger")

BlockRenderer = Callable[[Mapping[str, Any], str, Ctx], Html]


def _section(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    text = h("div", {"class": "bk-text"}, rich(block["text"], ctx)) if "text" in block else None
    fields = [h("div", {"class": "bk-field"}, rich(f, ctx)) for f in as_list(block.get("fields"))]
    grid = h("div", {"class": "bk-fields"}, *fields) if fields else None
    body = h("div", {"class": "bk-section-body"}, text, grid)
    accessory = block.get("accessory")
    side = None
    if isinstance(accessory, Mapping):
        part = element(accessory, f"{loc}.a", f"pick:{loc}.a", ctx)
        side = h("div", {"class": "bk-accessory"}, part)
    return h("div", {"class": "bk-section"}, body, side)


def _header(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    return h("h3", {"class": "bk-header"}, plain(text_of(block.get("text"))))


def _context(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    parts = []
    for el in as_list(block.get("elements")):
        is_image = isinstance(el, Mapping) and el.get("type") == "image"
        parts.append(image(el) if is_image else h("span", None, rich(el, ctx)))
    return h("div", {"class": "bk-context"}, join(parts, " · "))


def _actions(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    return elements_row(block.get("elements"), loc, ctx)


def _divider(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    return h("hr", {"class": "bk-divider"})


def _image_block(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    title = block.get("title")
    caption = h("figcaption", None, plain(text_of(title))) if title else None
    return h("figure", {"class": "bk-image"}, caption, image(block))


def _input(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    """An input of a modal: its value is sent with the submission as `in:<block index>`."""
    name = f"in:{loc}"
    optional = h("small", None, " (optional)") if block.get("optional") is True else None
    label = h("label", {"for": name}, plain(text_of(block.get("label"))), optional)
    control = element(block.get("element"), f"{loc}.e", name, ctx, dispatch=False)
    hint = block.get("hint")
    note = h("div", {"class": "hint"}, plain(text_of(hint))) if hint else None
    block_id = block.get("block_id")
    problem = ctx.errors.get(block_id) if isinstance(block_id, str) else None
    error = h("div", {"class": "error", "role": "alert"}, problem) if problem else None
    return h("div", {"class": "bk-input"}, label, control, note, error)


def _rich_text(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    return rich_text(block, ctx.viewer)


def markdown_text(text: str, ctx: Ctx) -> Html:
    """A `markdown` block (standard Markdown) through the mrkdwn renderer: Slack-escape it
    first, so its `<` can never open a Slack link, then map the common Markdown forms."""
    work = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    work = _MD_LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1).replace('|', '/')}>", work)
    work = _MD_BOLD.sub(r"*\1*", work)
    work = _MD_HEADING.sub(r"*\1*", work)
    return mrkdwn(work, ctx.viewer)


def _markdown(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    text = block.get("text")
    return h("div", {"class": "bk-text"}, markdown_text(text if isinstance(text, str) else "", ctx))


def _file(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    external = block.get("external_id")
    name = f"File {external}" if isinstance(external, str) and external else "File"
    return h("div", {"class": "bk-file"}, "📎 " + name)


def _video(block: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    title = text_of(block.get("title")) or str(block.get("alt_text") or "Video")
    url = safe_url(block.get("title_url")) or safe_url(block.get("video_url"))
    label = "▶ " + title
    return h("div", {"class": "bk-file"}, external_link(url, label) if url else label)


BLOCKS: dict[str, BlockRenderer] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "divider": _divider,
    "image": _image_block,
    "input": _input,
    "rich_text": _rich_text,
    "markdown": _markdown,
    "file": _file,
    "video": _video,
}


def blocks(value: object, ctx: Ctx, prefix: str = "") -> Html:
    """An array of blocks; `prefix` tells apart the layouts of a message's attachments."""
    out = []
    for i, block in enumerate(as_list(value)):
        found = as_dict(block)
        render = BLOCKS.get(str(found.get("type")))
        part = render(found, f"{prefix}{i}", ctx) if render else f"[{found.get('type')}]"
        out.append(h("div", {"class": "bk"}, part))
    return join(out)


def _color_class(value: object) -> str:
    """Slack's three named colours; any other colour shows grey (an inline style would need
    the page's Content-Security-Policy to allow inline styles, which it does not)."""
    return f"attachment att-{value}" if value in _COLORS else "attachment"


def attachment(value: object, index: int, ctx: Ctx) -> Html:
    """A legacy attachment: a colour bar beside its blocks, or its pretext/title/text/fields."""
    att = as_dict(value)
    inner: list[Html | None] = []
    if att.get("blocks"):
        inner.append(blocks(att.get("blocks"), ctx, prefix=f"a{index}/"))
    else:
        for key in ("pretext", "title", "text"):
            if isinstance(att.get(key), str) and att[key]:
                inner.append(h("div", {"class": f"att-{key}"}, mrkdwn(att[key], ctx.viewer)))
        for f in as_list(att.get("fields")):
            pair = as_dict(f)
            title, value_ = str(pair.get("title", "")), str(pair.get("value", ""))
            inner.append(h("div", {"class": "bk-field"}, h("strong", None, title), " ", value_))
        if not inner and isinstance(att.get("fallback"), str):
            inner.append(h("div", None, att["fallback"]))
    return h("div", {"class": _color_class(att.get("color"))}, *inner)


def message_body(message: Mapping[str, Any], ctx: Ctx) -> Html:
    """What Slack shows of a message: its blocks, or its text when it has none; then its
    attachments."""
    shown = as_list(message.get("blocks"))
    text = message.get("text")
    if shown:
        body = blocks(shown, ctx)
    elif isinstance(text, str):
        body = h("div", {"class": "bk-text"}, mrkdwn(text, ctx.viewer))
    else:
        body = Html("")
    extras = [attachment(a, k, ctx) for k, a in enumerate(as_list(message.get("attachments")))]
    return join([body, *extras])
