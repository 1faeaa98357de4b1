"""A compact terminal rendering of Block Kit messages, so the sandbox shows cards as text.

Headers keep their case (an exception's name is case-sensitive), checkboxes show each item
with its ticked state, and people and channels the emulator knows are shown by name."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict
from html import unescape
from typing import Any, TypeGuard

from bot.emulator.models import EmulatedMessage

_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_STRONG = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_NO_NAMES: Mapping[str, str] = {}
# Choice elements: the mark of a chosen option, and of one not chosen.
_CHOICES = {"checkboxes": ("☑", "☐"), "radio_buttons": ("◉", "○")}


class _Style:
    """How to draw: colour or not, and the names of the people and channels known (by id)."""

    def __init__(
        self,
        color: bool,
        users: Mapping[str, str] | None = None,
        channels: Mapping[str, str] | None = None,
    ) -> None:
        self.color = color
        self.users = users or _NO_NAMES
        self.channels = channels or _NO_NAMES

    def bold(self, text: str) -> str:
        return f"{_BOLD}{text}{_RESET}" if self.color else text

    def dim(self, text: str) -> str:
        return f"{_DIM}{text}{_RESET}" if self.color else text


def _link(match: re.Match[str], style: _Style) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):
        return "@" + (label or style.users.get(target[1:], target[1:]))
    if target.startswith("#"):
        return "#" + (label or style.channels.get(target[1:], target[1:]))
    if target.startswith("!"):
        return label or "@" + target[1:].split("^")[0]
    return f"{label} ({target})" if label and label != target else target


def mrkdwn_to_text(
    text: str,
    *,
    color: bool = False,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """Slack mrkdwn as plain terminal text: links, mentions and entities made readable."""
    style = _Style(color, users, channels)
    plain = unescape(_LINK.sub(lambda m: _link(m, style), text))
    if color:
        plain = _STRONG.sub(lambda m: f"{_BOLD}{m.group(1)}{_RESET}", plain)
    return plain


def _mrkdwn(text: str, style: _Style, *, color: bool | None = None) -> str:
    shown = style.color if color is None else color
    return mrkdwn_to_text(text, color=shown, users=style.users, channels=style.channels)


def _text(obj: object, style: _Style) -> str:
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text", ""))
    return _mrkdwn(text, style) if obj.get("type") == "mrkdwn" else text


def _field(obj: object, style: _Style) -> str:
    """A "*Key*\\nvalue" field, the usual card layout, as "Key: value"."""
    raw = str(obj.get("text", "")) if isinstance(obj, Mapping) else ""
    key, sep, value = raw.partition("\n")
    if not sep:
        return _text(obj, style)
    return f"{_mrkdwn(key.strip('*_ '), style, color=False)}: {_mrkdwn(value, style)}"


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


def _is_choice(el: object) -> TypeGuard[Mapping[str, Any]]:
    return isinstance(el, Mapping) and el.get("type") in _CHOICES


def _choices(el: Mapping[str, Any], style: _Style) -> list[str]:
    """Checkboxes or radio buttons: one line per option, marked when chosen (ticked)."""
    on, off = _CHOICES[str(el.get("type"))]
    chosen = el.get("initial_options") or [el.get("initial_option")]
    values = {o.get("value") for o in chosen if isinstance(o, Mapping)}
    lines = []
    for option in el.get("options") or []:
        if not isinstance(option, Mapping):
            continue
        mark = on if option.get("value") in values else off
        line = f"  {mark} {_text(option.get('text'), style)}"
        description = _text(option.get("description"), style)
        lines.append(f"{line} — {description}" if description else line)
    return lines


def _elements(elements: object, style: _Style) -> list[str]:
    """An actions block's elements: buttons and menus on one line, choices one per line."""
    lines: list[str] = []
    inline: list[str] = []
    for el in elements if isinstance(elements, list) else []:
        if _is_choice(el):
            if inline:
                lines.append(" ".join(inline))
                inline = []
            lines += _choices(el, style)
        else:
            inline.append(_element(el, style))
    if inline:
        lines.append(" ".join(inline))
    return lines


def _rich_text(el: object, style: _Style) -> str:
    if isinstance(el, Mapping):
        if isinstance(el.get("text"), str):
            return str(el["text"])
        if el.get("type") == "user":
            user_id = str(el.get("user_id", ""))
            return f"@{style.users.get(user_id, user_id)}"
        if el.get("type") == "link":
            return str(el.get("text") or el.get("url", ""))
        return "".join(_rich_text(child, style) for child in el.get("elements", []))
    return ""


def _section(block: Mapping[str, Any], style: _Style) -> list[str]:
    lines = _text(block.get("text"), style).splitlines() if block.get("text") else []
    lines += [f"  {_field(f, style)}" for f in block.get("fields", [])]
    accessory = block.get("accessory")
    if _is_choice(accessory):
        lines += _choices(accessory, style)
    elif accessory:
        lines.append("  " + _element(accessory, style))
    return lines


def _context(block: Mapping[str, Any], style: _Style) -> list[str]:
    parts = [
        _element(el, style)
        if isinstance(el, Mapping) and el.get("type") == "image"
        else _text(el, style)
        for el in block.get("elements", [])
    ]
    return [style.dim(" · ".join(p for p in parts if p))]


def _input(block: Mapping[str, Any], style: _Style) -> list[str]:
    label = _text(block.get("label"), style)
    element = block.get("element")
    if _is_choice(element):
        return [f"{label}:", *_choices(element, style)]
    return [f"{label}: [______]"]


_BLOCKS: dict[str, Callable[[Mapping[str, Any], _Style], list[str]]] = {
    # As written: upper-casing would change what a header says ("KeyError: 'cart_id'").
    "header": lambda b, s: [s.bold(_text(b.get("text"), s))],
    "section": _section,
    "context": _context,
    "actions": lambda b, s: _elements(b.get("elements"), s),
    "divider": lambda b, s: [s.dim("─" * 40)],
    "image": lambda b, s: [f"[image: {b.get('alt_text', '')}]"],
    "input": _input,
    "rich_text": lambda b, s: _rich_text(b, s).splitlines(),
    "markdown": lambda b, s: _mrkdwn(str(b.get("text", "")), s).splitlines(),
}


def render_blocks(
    blocks: object,
    *,
    color: bool = False,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> list[str]:
    """Blocks as terminal lines; `users` and `channels` name the ids the emulator knows."""
    style = _Style(color, users, channels)
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


def render_message(
    message: EmulatedMessage | Mapping[str, Any],
    *,
    color: bool = False,
    users: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """The message as terminal lines: header as written, fields as "k: v", buttons as
    [Label], checklist items as ☑/☐, known people and channels by name."""
    m = _as_mapping(message)
    style = _Style(color, users, channels)
    names: dict[str, Any] = {"users": users, "channels": channels}
    lines = render_blocks(m.get("blocks"), color=color, **names)
    if not lines and m.get("text"):
        lines = _mrkdwn(str(m["text"]), style).splitlines()
    for attachment in m.get("attachments") or []:
        inner = render_blocks(attachment.get("blocks"), color=color, **names) if attachment else []
        if not inner and isinstance(attachment, Mapping):
            inner = _mrkdwn(str(attachment.get("text", "")), style, color=False).splitlines()
        lines += [f"│ {line}" for line in inner]
    if m.get("edits"):
        lines.append(style.dim("(edited)"))
    reactions = _reactions(m.get("reactions"))
    if reactions:
        lines.append(reactions)
    for reply in m.get("replies") or []:
        reply_lines = render_message(reply, color=color, **names).splitlines() or [""]
        lines.append(f"    ↳ {reply_lines[0]}")
        lines += [f"      {line}" for line in reply_lines[1:]]
    return "\n".join(lines)
