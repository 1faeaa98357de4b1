"""A compact terminal rendering of Block Kit messages, so the sandbox shows cards as text."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict
from html import unescape
from typing import Any

from bot.emulator.models import EmulatedMessage

_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_STRONG = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def bold(self, text: str) -> str:
        return f"{_BOLD}{text}{_RESET}" if self.color else text

    def dim(self, text: str) -> str:
        return f"{_DIM}{text}{_RESET}" if self.color else text


def _link(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith(("@", "#")):
        return (("#" if target.startswith("#") else "@") + label) if label else target
    if target.startswith("!"):
        return label or "@" + target[1:].split("^")[0]
    return f"{label} ({target})" if label and label != target else target


def mrkdwn_to_text(text: str, *, color: bool = False) -> str:
    """Slack mrkdwn as plain terminal text: links, mentions and entities made readable."""
    plain = unescape(_LINK.sub(_link, text))
    if color:
        plain = _STRONG.sub(lambda m: f"{_BOLD}{m.group(1)}{_RESET}", plain)
    return plain


def _text(obj: object, style: _Style) -> str:
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text", ""))
    return mrkdwn_to_text(text, color=style.color) if obj.get("type") == "mrkdwn" else text


def _field(obj: object, style: _Style) -> str:
    """A "*Key*\\nvalue" field, the usual card layout, as "Key: value"."""
    raw = str(obj.get("text", "")) if isinstance(obj, Mapping) else ""
    key, sep, value = raw.partition("\n")
    if not sep:
        return _text(obj, style)
    return f"{mrkdwn_to_text(key.strip('*_ '))}: {mrkdwn_to_text(value, color=style.color)}"


def _element(el: object, style: _Style) -> str:
    if not isinstance(el, Mapping):
        return ""
    kind = el.get("type")
    label = _text(el.get("text") or el.get("placeholder"), style) or str(el.get("action_id", kind))
    if kind == "button":
        mark = " ↗" if el.get("url") else ""
        return (
            style.bold(f"[{label}{mark}]") if el.get("style") == "primary" else f"[{label}{mark}]"
        )
    if kind == "image":
        return f"[image: {el.get('alt_text', '')}]"
    if kind == "overflow":
        return "[⋯]"
    return f"[{label} ▾]"


def _rich_text(el: object) -> str:
    if isinstance(el, Mapping):
        if isinstance(el.get("text"), str):
            return str(el["text"])
        if el.get("type") == "user":
            return f"@{el.get('user_id', '')}"
        if el.get("type") == "link":
            return str(el.get("text") or el.get("url", ""))
        return "".join(_rich_text(child) for child in el.get("elements", []))
    return ""


def _section(block: Mapping[str, Any], style: _Style) -> list[str]:
    lines = _text(block.get("text"), style).splitlines() if block.get("text") else []
    lines += [f"  {_field(f, style)}" for f in block.get("fields", [])]
    if block.get("accessory"):
        lines.append("  " + _element(block["accessory"], style))
    return lines


def _context(block: Mapping[str, Any], style: _Style) -> list[str]:
    parts = [
        _element(el, style)
        if isinstance(el, Mapping) and el.get("type") == "image"
        else _text(el, style)
        for el in block.get("elements", [])
    ]
    return [style.dim(" · ".join(p for p in parts if p))]


_BLOCKS: dict[str, Callable[[Mapping[str, Any], _Style], list[str]]] = {
    "header": lambda b, s: [s.bold(_text(b.get("text"), s).upper())],
    "section": _section,
    "context": _context,
    "actions": lambda b, s: [" ".join(_element(el, s) for el in b.get("elements", []))],
    "divider": lambda b, s: [s.dim("─" * 40)],
    "image": lambda b, s: [f"[image: {b.get('alt_text', '')}]"],
    "input": lambda b, s: [f"{_text(b.get('label'), s)}: [______]"],
    "rich_text": lambda b, s: _rich_text(b).splitlines(),
    "markdown": lambda b, s: mrkdwn_to_text(str(b.get("text", "")), color=s.color).splitlines(),
}


def render_blocks(blocks: object, *, color: bool = False) -> list[str]:
    style = _Style(color)
    lines: list[str] = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping):
            continue
        render = _BLOCKS.get(str(block.get("type")))
        lines += render(block, style) if render else [style.dim(f"[{block.get('type')}]")]
    return lines


def _as_mapping(message: EmulatedMessage | Mapping[str, Any]) -> Mapping[str, Any]:
    return asdict(message) if isinstance(message, EmulatedMessage) else message


def _reactions(value: object) -> str:
    # Stored messages keep {name: [users]}; API-shaped ones a list of {name, count}.
    if isinstance(value, Mapping):
        pairs = [(name, len(users)) for name, users in value.items()]
    elif isinstance(value, list):
        pairs = [
            (str(r.get("name")), int(r.get("count", 1))) for r in value if isinstance(r, Mapping)
        ]
    else:
        pairs = []
    return "  ".join(f":{name}: {count}" for name, count in pairs)


def render_message(message: EmulatedMessage | Mapping[str, Any], *, color: bool = False) -> str:
    """The message as terminal lines: header in caps, fields as "k: v", buttons as [Label]."""
    m = _as_mapping(message)
    style = _Style(color)
    lines = render_blocks(m.get("blocks"), color=color)
    if not lines and m.get("text"):
        lines = mrkdwn_to_text(str(m["text"]), color=color).splitlines()
    for attachment in m.get("attachments") or []:
        inner = render_blocks(attachment.get("blocks"), color=color) if attachment else []
        if not inner and isinstance(attachment, Mapping):
            inner = mrkdwn_to_text(str(attachment.get("text", ""))).splitlines()
        lines += [f"│ {line}" for line in inner]
    if m.get("edits"):
        lines.append(style.dim("(edited)"))
    reactions = _reactions(m.get("reactions"))
    if reactions:
        lines.append(reactions)
    for reply in m.get("replies") or []:
        reply_lines = render_message(reply, color=color).splitlines() or [""]
        lines.append(f"    ↳ {reply_lines[0]}")
        lines += [f"      {line}" for line in reply_lines[1:]]
    return "\n".join(lines)
