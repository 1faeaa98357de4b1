"""chat.*, reactions.* and conversations.history/replies: the methods that read and change
messages."""

from __future__ import annotations

from typing import Any

from bot.emulator.models import EmulatedMessage, EphemeralMessage
from bot.emulator.web_call import (
    Method,
    Response,
    WebCall,
    blocks_of,
    content_error,
    error,
)
from bot.emulator.workspace import Notification


def _metadata(params: dict[str, Any]) -> dict[str, Any] | None:
    value = params.get("metadata")
    return value if isinstance(value, dict) else None


def post_message(call: WebCall) -> Response:
    ws, p = call.ws, call.params
    channel = ws.resolve_channel(call.text_param("channel"))
    if channel is None:
        return error("channel_not_found")
    problem = content_error(p, require_content=True, chat=True)
    if problem:
        return problem
    thread_ts = call.text_param("thread_ts")
    if thread_ts is not None:
        parent = ws.thread_parent(channel, thread_ts)
        if parent is None:
            return error("thread_not_found")
        thread_ts = parent.ts
    message = EmulatedMessage(
        channel=channel,
        ts=ws.next_ts(),
        text=call.text_param("text") or "",
        user=ws.config.bot_user_id,
        blocks=blocks_of(p),
        attachments=blocks_of(p, "attachments"),
        metadata=_metadata(p),
        thread_ts=thread_ts,
        bot_id=ws.config.bot_id,
    )
    call.notifications.append(ws.add(message))
    return {
        "ok": True,
        "channel": channel,
        "ts": message.ts,
        "message": call.slack_message(message),
    }


def update(call: WebCall) -> Response:
    ws, p = call.ws, call.params
    channel = ws.resolve_channel(call.text_param("channel"))
    if channel is None:
        return error("channel_not_found")
    message = ws.find(channel, call.text_param("ts") or "")
    if message is None:
        return error("message_not_found")
    if message.user != ws.config.bot_user_id:
        return error("cant_update_message")
    problem = content_error(p, require_content=True, chat=True)
    if problem:
        return problem
    # Slack keeps fields the update leaves out; an empty array clears blocks/attachments.
    if "text" in p:
        message.text = call.text_param("text") or ""
    if "blocks" in p:
        message.blocks = blocks_of(p)
    if "attachments" in p:
        message.attachments = blocks_of(p, "attachments")
    if "metadata" in p:
        message.metadata = _metadata(p)
    message.edits += 1
    call.notifications.append(Notification(message.channel, message, "updated"))
    return {
        "ok": True,
        "channel": channel,
        "ts": message.ts,
        "text": message.text,
        "message": call.slack_message(message),
    }


def post_ephemeral(call: WebCall) -> Response:
    ws, p = call.ws, call.params
    channel = ws.resolve_channel(call.text_param("channel"))
    if channel is None:
        return error("channel_not_found")
    user = call.text_param("user")
    if user is None or not ws.known_user(user):
        return error("user_not_found")
    problem = content_error(p, require_content=True, chat=True)
    if problem:
        return problem
    ws.ephemerals.append(
        EphemeralMessage(
            channel=channel,
            user=user,
            text=call.text_param("text") or "",
            blocks=blocks_of(p),
            source="chat.postEphemeral",
            thread_ts=call.text_param("thread_ts"),
            at=ws.config.wall_clock(),
        )
    )
    return {"ok": True, "message_ts": ws.next_ts()}


def get_permalink(call: WebCall) -> Response:
    ws = call.ws
    channel = ws.resolve_channel(call.text_param("channel"))
    if channel is None:
        return error("channel_not_found")
    message = ws.find(channel, call.text_param("message_ts") or "")
    if message is None:
        return error("message_not_found")
    base = f"https://{ws.config.team_domain}.slack.com/archives/{channel}"
    link = f"{base}/p{message.ts.replace('.', '')}"
    if message.thread_ts:
        link += f"?thread_ts={message.thread_ts}&cid={channel}"
    return {"ok": True, "channel": channel, "permalink": link}


def _page(call: WebCall, messages: list[EmulatedMessage]) -> Response:
    """One page of `messages` (already in Slack's order) for history and replies: `limit`
    (1-999), an opaque `cursor`, and metadata only with `include_all_metadata` (as Slack)."""
    limit = min(max(call.int_param("limit", 100), 1), 999)
    cursor = call.text_param("cursor")
    start = 0
    if cursor:
        if not cursor.startswith(_CURSOR) or not cursor[len(_CURSOR) :].isdigit():
            return error("invalid_cursor")
        start = int(cursor[len(_CURSOR) :])
    page = messages[start : start + limit]
    more = start + limit < len(messages)
    with_metadata = call.text_param("include_all_metadata") in ("true", "1")
    shown = []
    for message in page:
        out = call.slack_message(message)
        if not with_metadata:
            out.pop("metadata", None)
        shown.append(out)
    return {
        "ok": True,
        "messages": shown,
        "has_more": more,
        "pin_count": 0,
        "response_metadata": {"next_cursor": f"{_CURSOR}{start + limit}" if more else ""},
    }


_CURSOR = "bmV4dF90czox"  # what Slack's cursors look like: opaque base64


def _in_window(call: WebCall, message: EmulatedMessage) -> bool:
    oldest = call.float_param("oldest", 0.0)
    latest = call.float_param("latest", float("inf"))
    return oldest <= float(message.ts) <= latest


def history(call: WebCall) -> Response:
    ws = call.ws
    channel = ws.resolve_channel(call.text_param("channel"))
    if channel is None:
        return error("channel_not_found")
    newest_first = [m for m in reversed(ws.top_level.get(channel, [])) if _in_window(call, m)]
    return _page(call, newest_first)


def replies(call: WebCall) -> Response:
    """A thread, oldest first: its parent, then the replies (the parent whatever the window)."""
    ws = call.ws
    channel = ws.resolve_channel(call.text_param("channel"))
    if channel is None:
        return error("channel_not_found")
    parent = ws.find(channel, call.text_param("ts") or "")
    if parent is None:
        return error("thread_not_found")
    if parent.thread_ts is not None:
        parent = ws.find(channel, parent.thread_ts) or parent
    return _page(call, [parent, *(m for m in parent.replies if _in_window(call, m))])


def reactions_add(call: WebCall) -> Response:
    ws = call.ws
    channel = ws.resolve_channel(call.text_param("channel"))
    if channel is None:
        return error("channel_not_found")
    name = (call.text_param("name") or "").strip(":")
    if not name:
        return error("invalid_name")
    message = ws.find(channel, call.text_param("timestamp") or "")
    if message is None:
        return error("message_not_found")
    users = message.reactions.setdefault(name, [])
    if ws.config.bot_user_id in users:
        return error("already_reacted")
    users.append(ws.config.bot_user_id)
    return {"ok": True}


CHAT_METHODS: dict[str, Method] = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "conversations.history": history,
    "conversations.replies": replies,
    "reactions.add": reactions_add,
}
