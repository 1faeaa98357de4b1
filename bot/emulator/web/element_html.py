"""Block Kit elements as HTML controls: buttons, overflow menus, selects, checkboxes, pickers,
text inputs and images.

Every element is addressed by its place in the message (`loc`, e.g. "3.1": block 3, element
1; "2.a": block 2's accessory), never by its action_id or value: the server looks the element
up in its stored copy of the message, as Slack does, and builds the payload from that.
A `live` control sends; a non-live one is a picture of it (disabled).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.emulator.web.html import AttrValue, Html, external_link, h, join, safe_url
from bot.emulator.web.mrkdwn import mrkdwn, plain
from bot.emulator.web.picks import as_dict, as_list, options
from bot.emulator.web.viewer import Viewer

_INITIAL_OF = {
    "users_select": "initial_user",
    "conversations_select": "initial_conversation",
    "channels_select": "initial_channel",
    "multi_users_select": "initial_users",
    "multi_conversations_select": "initial_conversations",
    "multi_channels_select": "initial_channels",
}
_INPUT_TYPES = {"email_text_input": "email", "url_text_input": "url", "number_input": "number"}


@dataclass(frozen=True)
class Ctx:
    """How to render: for whom, whether controls send, and errors the app gave a modal."""

    viewer: Viewer
    live: bool = True
    errors: Mapping[str, str] = field(default_factory=dict)


def text_of(obj: object) -> str:
    """The raw string of a text object ("" when it is missing or malformed)."""
    text = as_dict(obj).get("text")
    return text if isinstance(text, str) else ""


def rich(obj: object, ctx: Ctx) -> Html:
    """A text object as HTML: mrkdwn formatted, plain_text as typed."""
    found = as_dict(obj)
    text = text_of(found)
    if found.get("type") == "mrkdwn":
        return mrkdwn(text, ctx.viewer)
    return plain(text, emoji=found.get("emoji") is not False)


def element(el: object, loc: str, name: str, ctx: Ctx, *, dispatch: bool = True) -> Html:
    """One element; `name` is the form field its picks or typed text go in. A `dispatch`
    element sends block_actions when changed (a message's); others only hold a value until
    their modal is submitted (an input block's)."""
    found = as_dict(el)
    live = _live_attrs(loc, ctx) if dispatch else {}
    kind = str(found.get("type"))
    if kind == "button":
        return button(found, loc, ctx)
    if kind == "workflow_button":
        label = plain(text_of(found.get("text")))
        return h("button", {"type": "button", "class": "btn", "disabled": True}, label)
    if kind == "image":
        return image(found)
    if kind == "overflow":
        return overflow(found, name, ctx, live)
    if kind in ("checkboxes", "radio_buttons"):
        return choices(found, name, ctx, live)
    if kind in ("datepicker", "timepicker", "datetimepicker"):
        return picker(found, name, ctx, live)
    if kind.endswith("_select"):
        return select(found, name, ctx, live)
    return text_input(found, name)


Live = Mapping[str, AttrValue]


def _live_attrs(loc: str, ctx: Ctx) -> Live:
    """A control whose change sends block_actions at once (page.js), like Slack's do."""
    return {"data-el": loc, "disabled": not ctx.live}


def _confirm(el: Mapping[str, Any]) -> str | None:
    """A confirm dialog's words, which page.js asks with the browser's own dialog."""
    confirm = as_dict(el.get("confirm"))
    if not confirm:
        return None
    parts = [text_of(confirm.get("title")), text_of(confirm.get("text"))]
    return "\n\n".join(p for p in parts if p)


def button(el: Mapping[str, Any], loc: str, ctx: Ctx) -> Html:
    style = el.get("style") if el.get("style") in ("primary", "danger") else None
    classes = "btn" + (f" btn-{style}" if style else "")
    label = plain(text_of(el.get("text")))
    url = safe_url(el.get("url"))
    if url is not None:
        # A link button opens its page and still tells the app, as Slack does (page.js).
        extra = {"data-el": loc} if ctx.live else None
        return external_link(url, label, Html(" ↗"), class_=classes, extra=extra)
    attrs: dict[str, AttrValue] = {
        "type": "submit",
        "class": classes,
        "name": "el",
        "value": loc,
        "disabled": not ctx.live,
        "data-confirm": _confirm(el),
    }
    return h("button", attrs, label)


def image(el: Mapping[str, Any]) -> Html:
    """An image as its alt text: the page loads nothing from outside (see page.py's CSP)."""
    alt = el.get("alt_text")
    label = "🖼 " + (alt if isinstance(alt, str) and alt else "image")
    url = safe_url(el.get("image_url"))
    return external_link(url, label, class_="img") if url else h("span", {"class": "img"}, label)


def _option_label(option: Mapping[str, Any]) -> str:
    return text_of(option.get("text")) or str(option.get("value", ""))


def _initial_values(el: Mapping[str, Any]) -> set[str]:
    """Values initially picked: initial_option(s) by value, initial_user(s)/... by id."""
    key = _INITIAL_OF.get(str(el.get("type")))
    if key is not None:
        value = el.get(key)
        return {str(v) for v in (value if isinstance(value, list) else [value]) if v}
    picked = [as_dict(el.get("initial_option"))] + [
        as_dict(o) for o in as_list(el.get("initial_options"))
    ]
    return {str(o["value"]) for o in picked if "value" in o}


def overflow(el: Mapping[str, Any], name: str, ctx: Ctx, live: Live) -> Html:
    items = [h("option", {"value": ""}, "⋯")]
    items += [
        h("option", {"value": str(i)}, _option_label(o))
        for i, o in enumerate(options(el, ctx.viewer))
    ]
    attrs = {"class": "overflow", "name": name, "aria-label": "More actions"}
    return h("select", {**attrs, **live}, *items)


def select(el: Mapping[str, Any], name: str, ctx: Ctx, live: Live) -> Html:
    many = str(el.get("type")).startswith("multi_")
    initial = _initial_values(el)
    items = [] if many else [h("option", {"value": ""}, text_of(el.get("placeholder")) or "…")]
    for i, o in enumerate(options(el, ctx.viewer)):
        picked = str(o.get("value")) in initial
        items.append(h("option", {"value": str(i), "selected": picked}, _option_label(o)))
    attrs: dict[str, AttrValue] = {
        "class": "select",
        "name": name,
        "id": name,
        "multiple": many,
        # A list box has no empty first choice to say what to pick: its tooltip does.
        "title": (text_of(el.get("placeholder")) or None) if many else None,
    }
    return h("select", {**attrs, **live}, *items)


def choices(el: Mapping[str, Any], name: str, ctx: Ctx, live: Live) -> Html:
    kind = "checkbox" if el.get("type") == "checkboxes" else "radio"
    initial = _initial_values(el)
    rows = []
    for i, o in enumerate(options(el, ctx.viewer)):
        box_attrs: dict[str, AttrValue] = {
            "type": kind,
            "name": name,
            "value": str(i),
            "checked": str(o.get("value")) in initial,
        }
        box = h("input", {**box_attrs, **live})
        description = o.get("description")
        note = h("small", None, rich(description, ctx)) if description else None
        rows.append(h("label", {"class": "choice"}, box, " ", rich(o.get("text"), ctx), note))
    return h("div", {"class": "choices", "role": "group"}, *rows)


def _local_datetime(value: object, viewer: Viewer) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, viewer.tz).strftime("%Y-%m-%dT%H:%M")
    except (ValueError, OverflowError, OSError):
        return None


def picker(el: Mapping[str, Any], name: str, ctx: Ctx, live: Live) -> Html:
    kind = el.get("type")
    if kind == "datepicker":
        control, value = "date", el.get("initial_date")
    elif kind == "timepicker":
        control, value = "time", el.get("initial_time")
    else:
        control, value = "datetime-local", _local_datetime(el.get("initial_date_time"), ctx.viewer)
    attrs = {
        "type": control,
        "class": "picker",
        "name": name,
        "id": name,
        "title": text_of(el.get("placeholder")) or None,
        "value": value if isinstance(value, str) else None,
    }
    return h("input", {**attrs, **live})


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def text_input(el: Mapping[str, Any], name: str) -> Html:
    """Modal inputs; typing is not an action (no dispatch_action), the value goes on submit."""
    kind = str(el.get("type"))
    initial = el.get("initial_value")
    attrs: dict[str, AttrValue] = {
        "name": name,
        "id": name,
        "class": "text",
        "placeholder": text_of(el.get("placeholder")) or None,
        "maxlength": _int(el.get("max_length")),
        "minlength": _int(el.get("min_length")),
        "disabled": kind == "file_input",  # uploads are not emulated
    }
    if kind == "rich_text_input" or el.get("multiline") is True:
        return h("textarea", {**attrs, "rows": 3}, initial if isinstance(initial, str) else "")
    if kind == "number_input":
        attrs["step"] = "any" if el.get("is_decimal_allowed") is True else "1"
    control = "file" if kind == "file_input" else _INPUT_TYPES.get(kind, "text")
    value = initial if isinstance(initial, str | int | float) else None
    return h("input", {**attrs, "type": control, "value": None if value is None else str(value)})


def elements_row(els: object, prefix: str, ctx: Ctx) -> Html:
    """An actions block's elements, wrapping onto more lines on a narrow screen."""
    parts = [
        element(el, f"{prefix}.{j}", f"pick:{prefix}.{j}", ctx) for j, el in enumerate(as_list(els))
    ]
    return h("div", {"class": "bk-actions"}, join(parts, " "))
