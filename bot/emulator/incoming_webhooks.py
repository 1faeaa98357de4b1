"""What Slack does with a POST to an incoming webhook (hooks.slack.com/services/T…/B…/…).

A webhook is bound to one channel when it is installed; the body carries only the message.
Slack answers in plain text ("ok", "invalid_payload", "no_text", "no_service"), and the
per-channel posting limit (about 1 message/s) applies as it does to chat.postMessage, with
HTTP 429 and Retry-After. Alertmanager's `slack_configs` receivers post here.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from bot.emulator.models import EmulatedMessage
from bot.emulator.web_call import blocks_of, content_error
from bot.emulator.workspace import Notification, Workspace

METHOD = "incoming_webhook"  # the name its calls are recorded (and faults injected) under
PATH_PREFIX = "/services/"


@dataclass
class WebhookResult:
    status: int
    body: str
    params: dict[str, Any]
    notifications: list[Notification] = field(default_factory=list)


def new_hook_path(team_id: str) -> str:
    """The three path parts of a fresh webhook URL, shaped like Slack's."""
    return f"{team_id}/B{secrets.token_hex(5).upper()}/{secrets.token_urlsafe(18)}"


def parse_body(body: bytes, content_type: str) -> dict[str, Any] | None:
    """The message: a JSON body, or a form body with the JSON in `payload` (Slack takes both)."""
    raw: bytes | str = body
    if content_type.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded":
        form = dict(parse_qsl(body.decode(errors="replace")))
        raw = form.get("payload", "")
    try:
        params = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return params if isinstance(params, dict) else None


def post(ws: Workspace, channel: str, params: dict[str, Any]) -> WebhookResult:
    """Store the message in the hook's channel (a legacy `channel` override is ignored)."""
    problem = content_error(params, require_content=True)
    if problem:
        return WebhookResult(400, str(problem["error"]), params)
    cfg = ws.config
    message = EmulatedMessage(
        channel=channel,
        ts=ws.next_ts(),
        text=str(params.get("text") or ""),
        user=cfg.bot_user_id,
        blocks=blocks_of(params),
        attachments=blocks_of(params, "attachments"),
        bot_id=cfg.bot_id,
    )
    return WebhookResult(200, "ok", params, [ws.add(message)])
