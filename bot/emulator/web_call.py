"""What a Web API method implementation receives, and the checks several methods share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.blocks import (
    MAX_BLOCKS_TEXT,
    MAX_MESSAGE_TEXT,
    blocks_text_length,
    validate_attachments,
    validate_blocks,
)
from bot.emulator.models import EmulatedMessage, message_to_slack
from bot.emulator.workspace import Notification, Workspace

Response = dict[str, Any]


@dataclass
class WebCall:
    """One Web API call being answered, with the workspace it may change."""

    ws: Workspace
    params: dict[str, Any]
    notifications: list[Notification] = field(default_factory=list)

    def text_param(self, name: str) -> str | None:
        """A string argument; numbers sent in JSON are read as their text like Slack does."""
        value = self.params.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return value if isinstance(value, str) else None

    def int_param(self, name: str, default: int) -> int:
        value = self.text_param(name)
        try:
            return int(value) if value is not None else default
        except ValueError:
            return default

    def float_param(self, name: str, default: float) -> float:
        value = self.text_param(name)
        try:
            return float(value) if value is not None else default
        except ValueError:
            return default

    def slack_message(self, message: EmulatedMessage) -> Response:
        cfg = self.ws.config
        return message_to_slack(message, team_id=cfg.team_id, app_id=cfg.app_id)


Method = Callable[[WebCall], Response]


def error(code: str, **extra: Any) -> Response:
    return {"ok": False, "error": code, **extra}


def invalid_blocks(errors: list[str]) -> Response:
    """Slack's invalid_blocks answer: the pointers in `errors` and again as [ERROR] lines."""
    return error(
        "invalid_blocks",
        errors=errors,
        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
    )


def content_error(
    params: dict[str, Any], *, require_content: bool, chat: bool = False
) -> Response | None:
    """The error Slack gives for a message's text/blocks/attachments, or None when valid.
    `chat`: a chat.* method, where Slack also refuses blocks with too much text in all (seen
    on chat.postMessage, not on response_url answers: slackapi/bolt-js#2867)."""
    if "blocks" in params:
        blocks = params["blocks"]
        if not isinstance(blocks, list):
            return error("invalid_blocks_format")
        errors = validate_blocks(blocks)
        if errors:
            return invalid_blocks(errors)
        if chat and blocks_text_length(blocks) > MAX_BLOCKS_TEXT:
            return error("msg_blocks_too_long")
    if "attachments" in params:
        attachments = params["attachments"]
        if not isinstance(attachments, list):
            return error("invalid_attachments")
        errors = validate_attachments(attachments)
        if errors:
            return invalid_blocks(errors)
    text = params.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return error("msg_too_long")
    has_content = bool(text) or bool(params.get("blocks")) or bool(params.get("attachments"))
    if require_content and not has_content:
        return error("no_text")
    return None


def blocks_of(params: dict[str, Any], name: str = "blocks") -> list[dict[str, Any]]:
    value = params.get(name)
    return list(value) if isinstance(value, list) else []
