"""What an element offers, and what Slack reports when a person picks or types something.

Shared by the renderer (the choices it shows, numbered) and by the actions (the payload Slack
would send for the numbers the browser sends back), so the two cannot disagree. The browser
only ever says "option 2 of element 3.1"; the option itself is read from the stored message,
as Slack reads it from its own copy, never from the request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.emulator.web.viewer import Viewer

SELECTS_OF_USERS = {"users_select", "multi_users_select"}
SELECTS_OF_CONVERSATIONS = {
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
}
# Where Slack puts the pick in a payload, by element type (the `selected_...` fields).
_SELECTED_FIELD = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
}
TYPED = {"plain_text_input", "email_text_input", "url_text_input", "number_input"}


def as_dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _plain_option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": value}


def options(element: Mapping[str, Any], viewer: Viewer) -> list[dict[str, Any]]:
    """The choices of an overflow, select, checkboxes or radio group, in display order.

    Selects of people or channels list the workspace's; an external_select has none here
    (Slack would ask the app through block_suggestion, which the emulator does not send)."""
    kind = element.get("type")
    if kind in SELECTS_OF_USERS:
        return [_plain_option(name, uid) for uid, name in viewer.users.items()]
    if kind in SELECTS_OF_CONVERSATIONS:
        return [_plain_option("#" + name, cid) for cid, name in viewer.channels.items()]
    found = [o for o in as_list(element.get("options")) if isinstance(o, Mapping)]
    for group in as_list(element.get("option_groups")):
        found += [o for o in as_list(as_dict(group).get("options")) if isinstance(o, Mapping)]
    return [dict(o) for o in found]


def chosen(element: Mapping[str, Any], picks: Sequence[str], viewer: Viewer) -> list[Any]:
    """The options picked, from the indexes the browser sent (unknown ones ignored)."""
    offered = options(element, viewer)
    out = []
    for pick in picks:
        if pick.isdigit() and int(pick) < len(offered):
            out.append(offered[int(pick)])
    return out


def _rich_text_of(text: str) -> dict[str, Any]:
    section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
    return {"type": "rich_text", "elements": [section]}


def state_value(element: Mapping[str, Any], picks: Sequence[str], viewer: Viewer) -> dict[str, Any]:
    """What Slack reports for this element: its `type` plus the `selected_...` or `value`
    field, given the browser's picks (option indexes, or the typed text / date / time)."""
    kind = str(element.get("type"))
    out: dict[str, Any] = {"type": kind}
    first = picks[0] if picks else ""
    if kind in TYPED:
        out["value"] = first or None
    elif kind == "rich_text_input":
        out["rich_text_value"] = _rich_text_of(first)
    elif kind == "datepicker":
        out["selected_date"] = first or None
    elif kind == "timepicker":
        out["selected_time"] = first or None
        out["timezone"] = str(viewer.tz)
    elif kind == "datetimepicker":
        out["selected_date_time"] = _epoch(first, viewer)
    elif kind == "file_input":
        out["files"] = []
    else:
        out.update(_picked(kind, chosen(element, picks, viewer)))
    return out


def _picked(kind: str, picked: list[Any]) -> dict[str, Any]:
    if kind in _SELECTED_FIELD:
        values = [o["value"] for o in picked]
        many = kind.startswith("multi_")
        return {_SELECTED_FIELD[kind]: values if many else (values[0] if values else None)}
    if kind in ("checkboxes",) or kind.startswith("multi_"):
        return {"selected_options": picked}
    return {"selected_option": picked[0] if picked else None}


def _epoch(text: str, viewer: Viewer) -> int | None:
    try:
        return int(datetime.fromisoformat(text).replace(tzinfo=viewer.tz).timestamp())
    except ValueError:
        return None
