"""Signed requests exactly as Slack sends them to an app: slash commands, interactions, events.

Pure builders (no I/O) so any HTTP client can send them: `SlackSender` uses httpx.Client,
benchmarks use httpx.AsyncClient with the same `SignedRequest`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


@dataclass(frozen=True)
class SignedRequest:
    """Body and headers of one request from Slack; POST them unchanged to the app."""

    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class TeamInfo:
    """The workspace and app a request claims to come from."""

    team_id: str = "T0SEAWALL"
    team_domain: str = "seawall-emulator"
    api_app_id: str = "A0SEAWALL"
    bot_user_id: str = "U0SEAWALLBOT"
    # The deprecated verification token Slack still puts in every payload.
    verification_token: str = "emulator-verification-token"


def sign(body: bytes, timestamp: int, secret: str) -> str:
    """Slack's v0 signature: "v0=" + hex HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed(
    body: bytes,
    content_type: str,
    *,
    signing_secret: str,
    timestamp: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> SignedRequest:
    """Wrap a body with Slack's headers; `timestamp` defaults to now (tests pass old ones)."""
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": content_type,
        "User-Agent": SLACK_USER_AGENT,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(body, ts, signing_secret),
        **(extra_headers or {}),
    }
    return SignedRequest(body, headers)


def _form(fields: Mapping[str, str], signing_secret: str, timestamp: int | None) -> SignedRequest:
    body = urlencode(fields).encode()
    return signed(
        body,
        "application/x-www-form-urlencoded",
        signing_secret=signing_secret,
        timestamp=timestamp,
    )


def _interaction(
    payload: Mapping[str, Any], signing_secret: str, timestamp: int | None
) -> SignedRequest:
    # Interactions arrive form-encoded with the JSON in a single `payload` field.
    return _form({"payload": json.dumps(payload)}, signing_secret, timestamp)


def build_slash_command(
    *,
    signing_secret: str,
    team: TeamInfo,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    response_url: str,
    trigger_id: str,
    timestamp: int | None = None,
    extra: Mapping[str, object] | None = None,
) -> SignedRequest:
    """A slash command: form fields in Slack's order, booleans as the strings Slack uses."""
    fields = {
        "token": team.verification_token,
        "team_id": team.team_id,
        "team_domain": team.team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": team.api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }
    fields.update({k: str(v) for k, v in (extra or {}).items()})
    return _form(fields, signing_secret, timestamp)


def _user(team: TeamInfo, user_id: str, user_name: str) -> dict[str, str]:
    return {"id": user_id, "username": user_name, "name": user_name, "team_id": team.team_id}


def action_ts(timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    return f"{ts}.{secrets.randbelow(1_000_000):06d}"


def iter_elements(blocks: object) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(block_id, element) for every interactive element in a message's blocks."""
    if not isinstance(blocks, list):
        return
    for block in blocks:
        if not isinstance(block, dict):
            continue
        block_id = block.get("block_id")
        candidates = [*block.get("elements", []), block.get("accessory"), block.get("element")]
        for element in candidates:
            if isinstance(element, dict) and "action_id" in element:
                yield block_id, element


def build_block_action(
    *,
    signing_secret: str,
    team: TeamInfo,
    action_id: str,
    value: str | None,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    message_ts: str,
    block_id: str,
    button_text: str,
    message: Mapping[str, Any] | None,
    response_url: str,
    trigger_id: str,
    timestamp: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> SignedRequest:
    """A button click on a message (`block_actions`)."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": button_text, "emoji": True},
        "type": "button",
        "action_ts": action_ts(timestamp),
    }
    if value is not None:
        # Slack leaves `value` out entirely for a button that has none.
        action["value"] = value
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(team, user_id, user_name),
        "api_app_id": team.api_app_id,
        "token": team.verification_token,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": {"id": team.team_id, "domain": team.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
    if message is not None:
        payload["message"] = dict(message)
    payload.update(extra or {})
    return _interaction(payload, signing_secret, timestamp)


def build_view_submission(
    *,
    signing_secret: str,
    team: TeamInfo,
    callback_id: str,
    values: Mapping[str, Any],
    user_id: str,
    user_name: str,
    private_metadata: str = "",
    trigger_id: str,
    view: Mapping[str, Any] | None = None,
    timestamp: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> SignedRequest:
    """A modal submitted; `values` is state.values: {block_id: {action_id: {type, value}}}."""
    submitted: dict[str, Any] = {
        "id": "V" + secrets.token_hex(5).upper(),
        "team_id": team.team_id,
        "type": "modal",
        "blocks": [],
        "title": {"type": "plain_text", "text": "Seawall"},
        "app_id": team.api_app_id,
        **(view or {}),
    }
    submitted.update(
        callback_id=callback_id,
        private_metadata=private_metadata,
        state={"values": dict(values)},
    )
    payload: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": team.team_id, "domain": team.team_domain},
        "user": _user(team, user_id, user_name),
        "api_app_id": team.api_app_id,
        "token": team.verification_token,
        "trigger_id": trigger_id,
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    payload.update(extra or {})
    return _interaction(payload, signing_secret, timestamp)


def build_event(
    *,
    signing_secret: str,
    team: TeamInfo,
    event: Mapping[str, Any],
    event_id: str,
    event_time: int | None = None,
    retry_num: int | None = None,
    retry_reason: str | None = None,
    timestamp: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> SignedRequest:
    """An Events API `event_callback` envelope, with retry headers when it is a redelivery."""
    when = int(time.time()) if event_time is None else event_time
    inner = {"event_ts": f"{when}.000100", **event}
    envelope: dict[str, Any] = {
        "token": team.verification_token,
        "team_id": team.team_id,
        "api_app_id": team.api_app_id,
        "event": inner,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": when,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team.team_id,
                "user_id": team.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    envelope.update(extra or {})
    headers: dict[str, str] = {}
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
    return signed(
        json.dumps(envelope).encode(),
        "application/json",
        signing_secret=signing_secret,
        timestamp=timestamp,
        extra_headers=headers,
    )


def build_url_verification(
    *, signing_secret: str, challenge: str, team: TeamInfo, timestamp: int | None = None
) -> SignedRequest:
    """The handshake Slack sends when the Request URL is saved in the app config."""
    body = {"token": team.verification_token, "challenge": challenge, "type": "url_verification"}
    return signed(
        json.dumps(body).encode(),
        "application/json",
        signing_secret=signing_secret,
        timestamp=timestamp,
    )


def new_event_id() -> str:
    return "Ev" + secrets.token_hex(5).upper()


def as_envelope(request: SignedRequest) -> tuple[str, dict[str, Any]]:
    """What Slack pushes over Socket Mode for the same request: the envelope type and its
    payload (a slash command's form fields, an interaction's payload, an event's body)."""
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("application/json"):
        return "events_api", json.loads(request.body)
    fields = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    if "payload" in fields:
        return "interactive", json.loads(fields["payload"])
    return "slash_commands", fields
