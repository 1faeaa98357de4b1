"""`seawall send`: send Seawall what Slack, Alertmanager or Sentry would, signed, and print the
answer. For trying the real stack against `seawall emulator`, or a real Seawall by hand.

It reads the same environment as `seawall serve` (the signing secret, the webhook token, the
Sentry client secret, SLACK_API_URL for the emulator that hands out response_urls), so what
it sends is verified exactly like the real senders' requests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.emulator.sender import SlackSender

Echo = Callable[[str], None]
TIMEOUT_S = 10.0


class SendSettings(BaseSettings):
    """The part of Seawall's environment a sender needs; each only for its kind of request."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    port: int = 3000
    slack_signing_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    alertmanager_webhook_token: str | None = None
    sentry_client_secret: str | None = None
    seawall_channel: str = Field(default="C0ALERTS")


class SendError(Exception):
    """What is missing to send; the message says which variable to set."""


def _needed(value: str | None, name: str) -> str:
    if not value:
        raise SendError(f"{name} is not set: export the same value Seawall uses.")
    return value


def answer_text(response: httpx.Response) -> str:
    """`HTTP 200` and the body, Slack's answer text when it is one."""
    head = f"HTTP {response.status_code}"
    if not response.content:
        return head
    try:
        body = response.json()
    except ValueError:
        return f"{head}: {response.text.strip()}"
    if isinstance(body, dict) and "text" in body:
        return f"{head}: {body['text']}"
    return f"{head}: {json.dumps(body, ensure_ascii=False)}"


def send_slash(
    settings: SendSettings, to: str, command_line: str, user: str, channel: str | None
) -> str:
    """`/incident declare DB down` as user `user`, signed like Slack signs it."""
    words = shlex.split(command_line)
    if not words or not words[0].startswith("/"):
        raise SendError('Give the command as Slack would see it, e.g. "/incident declare DB down".')
    command, text = words[0], command_line.strip().removeprefix(words[0]).strip()
    emulator_url = settings.slack_api_url.rstrip("/").removesuffix("/api")
    sender = SlackSender(
        bot_url=f"{to}/slack/events",
        signing_secret=_needed(settings.slack_signing_secret, "SLACK_SIGNING_SECRET"),
        emulator_url=None if "slack.com" in emulator_url else emulator_url,
    )
    with sender:
        response = sender.slash_command(
            command, text, user_id=user, channel_id=channel or settings.seawall_channel
        )
    return answer_text(response)


def alert_payload(status: str, name: str, severity: str, summary: str) -> dict[str, Any]:
    """A version-4 notification of one alert. Its start is today's midnight UTC, so a later
    `resolved` for the same name resolves the same occurrence."""
    started = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    labels = {"alertname": name, "severity": severity, "job": "seawall-send"}
    ended = datetime.now(UTC).isoformat() if status == "resolved" else "0001-01-01T00:00:00Z"
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{name}"}}',
        "status": status,
        "receiver": "seawall",
        "groupLabels": {"alertname": name},
        "commonLabels": labels,
        "commonAnnotations": {"summary": summary},
        "externalURL": "http://alertmanager.invalid:9093",
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "annotations": {"summary": summary},
                "startsAt": started.isoformat(),
                "endsAt": ended,
            }
        ],
    }


def send_alert(settings: SendSettings, to: str, status: str, name: str, severity: str) -> str:
    token = _needed(settings.alertmanager_webhook_token, "ALERTMANAGER_WEBHOOK_TOKEN")
    payload = alert_payload(status, name, severity, f"{name} ({status}), sent by seawall send")
    response = httpx.post(
        f"{to}/webhooks/alertmanager",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT_S,
    )
    return answer_text(response)


def sentry_issue_payload(action: str, title: str) -> dict[str, Any]:
    issue_id = str(int(hashlib.sha256(title.encode()).hexdigest()[:10], 16))
    status = {"resolved": "resolved", "ignored": "ignored"}.get(action, "unresolved")
    now = datetime.now(UTC).isoformat()
    return {
        "action": action,
        "installation": {"uuid": "seawall-send"},
        "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
        "data": {
            "issue": {
                "id": issue_id,
                "shortId": f"SEND-{issue_id[:4]}",
                "title": title,
                "culprit": "seawall send",
                "level": "error",
                "status": status,
                "count": "1",
                "userCount": 1,
                "firstSeen": now,
                "lastSeen": now,
                "project": {"id": "1", "name": "demo", "slug": "demo"},
            }
        },
    }


def send_sentry(settings: SendSettings, to: str, action: str, title: str) -> str:
    secret = _needed(settings.sentry_client_secret, "SENTRY_CLIENT_SECRET")
    body = json.dumps(sentry_issue_payload(action, title)).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    response = httpx.post(
        f"{to}/webhooks/sentry",
        content=body,
        headers={
            "Content-Type": "application/json",
            "Sentry-Hook-Resource": "issue",
            "Sentry-Hook-Signature": signature,
            "Request-ID": secrets.token_hex(16),
        },
        timeout=TIMEOUT_S,
    )
    return answer_text(response)
