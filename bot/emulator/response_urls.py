"""What Slack does with a POST to a slash-command or interaction `response_url`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.models import EmulatedMessage, EphemeralMessage, ResponseUrl
from bot.emulator.web_call import blocks_of, content_error
from bot.emulator.workspace import Notification, Workspace

RESPONSE_URL_PATH = "/_emulator/response_url/"


@dataclass
class ResponseUrlResult:
    status: int
    body: str
    params: dict[str, Any]
    notifications: list[Notification] = field(default_factory=list)


def _truthy(value: object) -> bool:
    return value is True or value in ("true", "1", 1)


def respond(ws: Workspace, url_id: str, body: bytes) -> ResponseUrlResult:
    """Apply one response_url post; answers like hooks.slack.com (plain-text bodies)."""
    target = ws.response_urls.get(url_id)
    if target is None:
        return ResponseUrlResult(404, "no_service", {})
    try:
        params = json.loads(body) if body.strip() else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return ResponseUrlResult(400, "invalid_payload", {})
    if not isinstance(params, dict):
        return ResponseUrlResult(400, "invalid_payload", {})
    cfg = ws.config
    expired = cfg.clock() - target.issued_at > cfg.response_url_ttl_seconds
    if expired or target.uses >= cfg.response_url_max_uses:
        return ResponseUrlResult(404, "expired_url", params)
    target.uses += 1
    if _truthy(params.get("delete_original")):
        return _delete_original(ws, target, params)
    problem = content_error(params, require_content=True)
    if problem:
        return ResponseUrlResult(400, str(problem["error"]), params)
    if _truthy(params.get("replace_original")) and target.message_ts is not None:
        return _replace_original(ws, target, params)
    if params.get("response_type") == "in_channel":
        return _post_in_channel(ws, target, params)
    ws.ephemerals.append(
        EphemeralMessage(
            channel=target.channel,
            user=target.user,
            text=str(params.get("text") or ""),
            blocks=blocks_of(params),
            source="response_url",
            replace_original=_truthy(params.get("replace_original")),
            thread_ts=params.get("thread_ts"),
            at=cfg.wall_clock(),
        )
    )
    return ResponseUrlResult(200, "ok", params)


def _delete_original(
    ws: Workspace, target: ResponseUrl, params: dict[str, Any]
) -> ResponseUrlResult:
    message = ws.find(target.channel, target.message_ts) if target.message_ts else None
    if message is None:
        # An ephemeral original simply disappears; nothing is stored for it.
        return ResponseUrlResult(200, "ok", params)
    return ResponseUrlResult(200, "ok", params, [ws.delete(message)])


def _replace_original(
    ws: Workspace, target: ResponseUrl, params: dict[str, Any]
) -> ResponseUrlResult:
    message = ws.find(target.channel, target.message_ts or "")
    if message is None:
        return ResponseUrlResult(404, "message_not_found", params)
    message.text = str(params.get("text") or "")
    # Unlike chat.update, a replacement is a whole new message: omitted blocks are dropped.
    message.blocks = blocks_of(params)
    message.attachments = blocks_of(params, "attachments")
    message.edits += 1
    return ResponseUrlResult(200, "ok", params, [Notification(message.channel, message, "updated")])


def _post_in_channel(
    ws: Workspace, target: ResponseUrl, params: dict[str, Any]
) -> ResponseUrlResult:
    thread_ts = params.get("thread_ts")
    parent = ws.thread_parent(target.channel, thread_ts) if isinstance(thread_ts, str) else None
    message = EmulatedMessage(
        channel=target.channel,
        ts=ws.next_ts(),
        text=str(params.get("text") or ""),
        user=ws.config.bot_user_id,
        blocks=blocks_of(params),
        attachments=blocks_of(params, "attachments"),
        thread_ts=parent.ts if parent else None,
        bot_id=ws.config.bot_id,
    )
    return ResponseUrlResult(200, "ok", params, [ws.add(message)])
