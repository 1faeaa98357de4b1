"""conversations.create, conversations.invite, conversations.setTopic and pins.add.

Slack's rules as its method pages state them: channel names are lowercase letters, digits,
hyphens and underscores, at most 80 characters; the creator (here, the bot) is a member; only
a member may invite or pin; each refusal has its own error code.
"""

from __future__ import annotations

import re
from typing import Any

from bot.emulator.web_call import Method, Response, WebCall, error

CHANNEL_NAME_MAX = 80
TOPIC_MAX = 250
_ALLOWED = re.compile(r"^[a-z0-9_-]+$")


def name_error(name: str | None) -> str | None:
    """The error conversations.create gives for `name`, or None when Slack accepts it."""
    if not name:
        return "invalid_name_required"
    if len(name) > CHANNEL_NAME_MAX:
        return "invalid_name_maxlength"
    if not _ALLOWED.match(name):
        return "invalid_name_specials"  # also upper case, as Slack's docs say
    if not name.strip("-_"):
        return "invalid_name_punctuation"
    return None


def _channel_object(call: WebCall, channel_id: str) -> dict[str, Any]:
    ws = call.ws
    name = ws.channel_name(channel_id)
    info = ws.channel_info.get(channel_id, {})
    topic = ws.topics.get(channel_id, "")
    return {
        "id": channel_id,
        "name": name,
        "name_normalized": name,
        "is_channel": not info.get("is_private", False),
        "is_group": bool(info.get("is_private", False)),
        "is_im": False,
        "is_mpim": False,
        "is_private": bool(info.get("is_private", False)),
        "is_archived": False,
        "is_general": False,
        "is_member": ws.config.bot_user_id in ws.members_of(channel_id),
        "created": int(info.get("created", 0)),
        "creator": str(info.get("creator", "")),
        "topic": {"value": topic, "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
        "previous_names": [],
    }


def _conversation(call: WebCall) -> tuple[str | None, Response | None]:
    """A channel Seawall may act in: (id, None), or (None, the error Slack gives)."""
    ws = call.ws
    channel = ws.resolve_channel(call.text_param("channel"))
    if channel is None or channel.startswith("D"):
        return None, error("channel_not_found")
    if ws.config.bot_user_id not in ws.members_of(channel):
        return None, error("not_in_channel")
    return channel, None


def conversations_create(call: WebCall) -> Response:
    ws = call.ws
    name = call.text_param("name")
    problem = name_error(name)
    if problem:
        return error(problem)
    assert name is not None
    if name in ws.channels.values():
        return error("name_taken")
    channel_id = ws.next_id("C")
    ws.channels[channel_id] = name
    ws.channel_info[channel_id] = {
        "is_private": call.text_param("is_private") in ("true", "1"),
        "created": int(ws.config.wall_clock()),
        "creator": ws.config.bot_user_id,
    }
    ws.members[channel_id] = {ws.config.bot_user_id}
    return {"ok": True, "channel": _channel_object(call, channel_id)}


def conversations_invite(call: WebCall) -> Response:
    ws = call.ws
    channel, refused = _conversation(call)
    if refused:
        return refused
    assert channel is not None
    users = [u.strip() for u in (call.text_param("users") or "").split(",") if u.strip()]
    if not users:
        return error("no_user")
    members = ws.members_of(channel)
    failures = []
    for user in users:
        if user == ws.config.bot_user_id:
            failures.append({"user": user, "ok": False, "error": "cant_invite_self"})
        elif not ws.known_user(user):
            failures.append({"user": user, "ok": False, "error": "user_not_found"})
        elif user in members:
            failures.append({"user": user, "ok": False, "error": "already_in_channel"})
    force = call.text_param("force") in ("true", "1")
    if failures and not force:
        # Without force, one bad id refuses the whole call and nobody is invited.
        return error(str(failures[0]["error"]), errors=failures)
    failed = {f["user"] for f in failures}
    members.update(u for u in users if u not in failed)
    response = {"ok": True, "channel": _channel_object(call, channel)}
    if failures:
        response["errors"] = failures
    return response


def conversations_set_topic(call: WebCall) -> Response:
    channel, refused = _conversation(call)
    if refused:
        return refused
    assert channel is not None
    topic = call.text_param("topic") or ""
    if len(topic) > TOPIC_MAX:
        return error("too_long")
    call.ws.topics[channel] = topic
    return {"ok": True, "channel": _channel_object(call, channel)}


def pins_add(call: WebCall) -> Response:
    ws = call.ws
    channel, refused = _conversation(call)
    if refused:
        return refused
    assert channel is not None
    ts = call.text_param("timestamp")
    if ts is None:
        return error("no_item_specified")
    message = ws.find(channel, ts)
    if message is None:
        return error("message_not_found")
    pinned = ws.pins.setdefault(channel, [])
    if ts in pinned:
        return error("already_pinned")
    pinned.append(ts)
    return {"ok": True}


def conversations_list(call: WebCall) -> Response:
    """Channels (not DMs) a page at a time: `limit` (Slack allows up to 1000) and `cursor`
    (an opaque string Slack hands out in response_metadata.next_cursor)."""
    limit = call.int_param("limit", 100)
    if not 1 <= limit <= 1000:
        return error("invalid_limit")
    ids = sorted(c for c in call.ws.channels if not c.startswith("D"))
    cursor = call.text_param("cursor")
    start = 0
    if cursor:
        if not cursor.startswith("dGVhbTpD") or not cursor[8:].isdigit():
            return error("invalid_cursor")
        start = int(cursor[8:])
    page = ids[start : start + limit]
    more = start + limit < len(ids)
    return {
        "ok": True,
        "channels": [_channel_object(call, channel_id) for channel_id in page],
        "response_metadata": {"next_cursor": f"dGVhbTpD{start + limit}" if more else ""},
    }


CONVERSATION_METHODS: dict[str, Method] = {
    "conversations.list": conversations_list,
    "conversations.create": conversations_create,
    "conversations.invite": conversations_invite,
    "conversations.setTopic": conversations_set_topic,
    "pins.add": pins_add,
}
