"""SlackSender: play Slack's side towards the bot, with signed requests over real HTTP, or
as Socket Mode envelopes through the emulator's WebSocket (`socket_mode=True`).

When it knows the emulator (the object in-process, or its URL out of process) it obtains
trigger_ids and response_urls the emulator will honour, copies stored messages into
block_actions payloads and shows a slash command's immediate answer like Slack does.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol

import httpx

from bot.emulator.config import EmulatorConfig
from bot.emulator.models import EmulatedMessage
from bot.emulator.payloads import (
    SignedRequest,
    TeamInfo,
    as_envelope,
    build_block_action,
    build_event,
    build_slash_command,
    build_url_verification,
    build_view_submission,
    iter_elements,
    new_event_id,
)
from bot.emulator.response_urls import RESPONSE_URL_PATH, ResponseUrlResult
from bot.emulator.socket_mode import SocketModeHub


class InProcessEmulator(Protocol):
    """What SlackSender uses of an emulator in the same process (app.py's SlackEmulator),
    named here so that this module does not import app.py: the emulator's browser view
    sends its clicks through SlackSender, and app.py serves that view."""

    config: EmulatorConfig
    socket: SocketModeHub

    @property
    def views(self) -> list[dict[str, Any]]: ...
    def channel_name(self, channel_id: str) -> str: ...
    def issue_trigger_id(self) -> str: ...
    def issue_response_url(
        self, base_url: str, channel: str, user: str, message_ts: str | None = None
    ) -> str: ...
    def slack_message(self, channel_id: str, ts: str) -> dict[str, Any] | None: ...
    def message(self, channel_id: str, ts: str) -> EmulatedMessage | None: ...
    def post_to_response_url(self, url: str, body: bytes) -> ResponseUrlResult: ...
    def set_reaction(
        self, channel: str, ts: str, name: str, user: str, *, present: bool
    ) -> None: ...


class SlackSender:
    """Sends slash commands, button clicks, modal submissions and events to the bot."""

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        emulator_url: str | None = None,
        emulator: InProcessEmulator | None = None,
        clock: Callable[[], float] = time.time,
        team: TeamInfo | None = None,
        timeout: float = 10.0,
        socket_mode: bool = False,
    ) -> None:
        if socket_mode and emulator is None:
            raise ValueError("Socket Mode pushes envelopes through the in-process emulator")
        self.socket_mode = socket_mode
        self.bot_url = bot_url
        self.signing_secret = signing_secret
        self.emulator_url = emulator_url.rstrip("/") if emulator_url else None
        self.emulator = emulator
        self.clock = clock
        self.team = team or _team_of(emulator)
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SlackSender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- what Slack knows about the workspace ----------------------------------------------

    def _user_name(self, user_id: str) -> str:
        if self.emulator is not None and user_id in self.emulator.config.users:
            return self.emulator.config.users[user_id].name
        return user_id.lower()

    def _channel_name(self, channel_id: str) -> str:
        if self.emulator is not None:
            return self.emulator.channel_name(channel_id)
        return channel_id.lower()

    def _emulator_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.emulator_url is None:
            raise RuntimeError(f"SlackSender needs emulator_url to call {path}")
        response = self._http.post(self.emulator_url + path, json=body)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def issue_trigger_id(self) -> str:
        """A trigger_id the emulator's views.open accepts (an unknown one without an emulator)."""
        if self.emulator is not None:
            return self.emulator.issue_trigger_id()
        if self.emulator_url is not None:
            return str(self._emulator_post("/_emulator/trigger_ids", {})["trigger_id"])
        return f"{int(self.clock())}.{self.team.team_id}.{secrets.token_hex(16)}"

    def issue_response_url(self, channel_id: str, user_id: str, message_ts: str | None) -> str:
        """A response_url the emulator serves; without an emulator URL it is unreachable."""
        if self.emulator is not None:
            base = self.emulator_url or "http://emulator.invalid"
            return self.emulator.issue_response_url(base, channel_id, user_id, message_ts)
        if self.emulator_url is not None:
            body = {"channel_id": channel_id, "user_id": user_id, "message_ts": message_ts}
            return str(self._emulator_post("/_emulator/response_urls", body)["response_url"])
        return f"https://hooks.slack.com{RESPONSE_URL_PATH}{secrets.token_urlsafe(12)}"

    def stored_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """The message as Slack would copy it into a block_actions payload."""
        if self.emulator is not None:
            return self.emulator.slack_message(channel_id, ts)
        if self.emulator_url is not None:
            url = f"{self.emulator_url}/_emulator/channels/{channel_id}/messages/{ts}"
            response = self._http.get(url, params={"format": "slack"})
            if response.status_code == 200:
                data: dict[str, Any] = response.json()
                return data
        return None

    def _send(self, request: SignedRequest) -> httpx.Response:
        if not self.socket_mode:
            return self._http.post(self.bot_url, content=request.body, headers=request.headers)
        # The same request as Slack would push it over Socket Mode; the ack stands in for the
        # HTTP response (its payload is what the response body would have been).
        assert self.emulator is not None
        kind, payload = as_envelope(request)
        ack = self.emulator.socket.send(kind, payload)
        if "payload" in ack:
            return httpx.Response(200, json=ack["payload"])
        return httpx.Response(200)

    def _timestamp(self, timestamp: int | None) -> int:
        return int(self.clock()) if timestamp is None else timestamp

    # -- requests --------------------------------------------------------------------------

    def slash_command(
        self,
        command: str,
        text: str = "",
        user_id: str = "U0ALICE",
        channel_id: str = "C0ALERTS",
        *,
        timestamp: int | None = None,
        signing_secret: str | None = None,
        trigger_id: str | None = None,
        **extra: object,
    ) -> httpx.Response:
        """Run a slash command; `trigger_id` is one issued beforehand (else a fresh one), so
        the caller can tell which modal the command opens."""
        response_url = self.issue_response_url(channel_id, user_id, None)
        request = build_slash_command(
            signing_secret=signing_secret or self.signing_secret,
            team=self.team,
            command=command,
            text=text,
            user_id=user_id,
            user_name=self._user_name(user_id),
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            response_url=response_url,
            trigger_id=trigger_id or self.issue_trigger_id(),
            timestamp=self._timestamp(timestamp),
            extra=extra,
        )
        response = self._send(request)
        self._show_command_answer(response, response_url)
        return response

    def _show_command_answer(self, response: httpx.Response, response_url: str) -> None:
        """Show the bot's immediate answer the way Slack does: a JSON body like a post to the
        command's response_url, a plain-text body as an ephemeral message, an empty one not
        at all. Unlike Slack, the emulator counts it as one of the URL's uses."""
        if response.status_code != 200 or not response.content.strip():
            return
        body = response.content
        if not response.headers.get("content-type", "").startswith("application/json"):
            body = json.dumps({"text": response.text}).encode()
        if self.emulator is not None:
            self.emulator.post_to_response_url(response_url, body)
        elif self.emulator_url is not None:
            self._http.post(response_url, content=body)

    def block_action(
        self,
        action_id: str,
        value: str | None,
        user_id: str,
        channel_id: str,
        message_ts: str,
        block_id: str | None = None,
        *,
        timestamp: int | None = None,
        signing_secret: str | None = None,
        trigger_id: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """Click the button `action_id` on a message; block_id and label come from the message.
        `extra` replaces payload fields (e.g. `actions` for a checkbox or an overflow)."""
        message = self.stored_message(channel_id, message_ts)
        found = _find_button(message, action_id)
        button_text = action_id
        if found is not None:
            block_id = block_id or found[0]
            text = found[1].get("text")
            if isinstance(text, dict) and isinstance(text.get("text"), str):
                button_text = text["text"]
        request = build_block_action(
            signing_secret=signing_secret or self.signing_secret,
            team=self.team,
            action_id=action_id,
            value=value,
            user_id=user_id,
            user_name=self._user_name(user_id),
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            message_ts=message_ts,
            block_id=block_id or secrets.token_urlsafe(4),
            button_text=button_text,
            message=message,
            response_url=self.issue_response_url(channel_id, user_id, message_ts),
            trigger_id=trigger_id or self.issue_trigger_id(),
            timestamp=self._timestamp(timestamp),
            extra=extra,
        )
        return self._send(request)

    def view_submission(
        self,
        callback_id: str,
        values: dict[str, Any],
        user_id: str,
        private_metadata: str = "",
        *,
        timestamp: int | None = None,
        signing_secret: str | None = None,
        view: dict[str, Any] | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """Submit a modal: `view` as it was opened, else the last view opened with this
        callback_id when there is one."""
        opened = view
        if opened is None and self.emulator is not None:
            matching = [v for v in self.emulator.views if v.get("callback_id") == callback_id]
            opened = matching[-1] if matching else None
        request = build_view_submission(
            signing_secret=signing_secret or self.signing_secret,
            team=self.team,
            callback_id=callback_id,
            values=values,
            user_id=user_id,
            user_name=self._user_name(user_id),
            private_metadata=private_metadata,
            trigger_id=self.issue_trigger_id(),
            view=opened,
            timestamp=self._timestamp(timestamp),
            extra=extra,
        )
        return self._send(request)

    def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        *,
        timestamp: int | None = None,
        signing_secret: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        """Deliver an Events API event; event_id None means a fresh "Ev..." id."""
        request = build_event(
            signing_secret=signing_secret or self.signing_secret,
            team=self.team,
            event=event,
            event_id=event_id or new_event_id(),
            event_time=int(self.clock()),
            retry_num=retry_num,
            retry_reason=retry_reason,
            timestamp=self._timestamp(timestamp),
            extra=extra,
        )
        return self._send(request)

    def _reaction_event(
        self, kind: str, user: str, reaction: str, channel: str, ts: str, **kwargs: Any
    ) -> httpx.Response:
        event: dict[str, Any] = {
            "type": kind,
            "user": user,
            "reaction": reaction,
            "item": {"type": "message", "channel": channel, "ts": ts},
            "event_ts": f"{self.clock():.6f}",
        }
        emulator = self.emulator
        stored = emulator.message(channel, ts) if emulator is not None else None
        if emulator is not None and stored is not None:
            # Slack changes the message first, then tells the app.
            present = kind == "reaction_added"
            emulator.set_reaction(channel, ts, reaction, user, present=present)
            event["item_user"] = stored.user
        return self.event(event, **kwargs)

    def reaction_added(
        self, user: str, reaction: str, channel: str, ts: str, **kwargs: Any
    ) -> httpx.Response:
        return self._reaction_event("reaction_added", user, reaction, channel, ts, **kwargs)

    def reaction_removed(
        self, user: str, reaction: str, channel: str, ts: str, **kwargs: Any
    ) -> httpx.Response:
        return self._reaction_event("reaction_removed", user, reaction, channel, ts, **kwargs)

    def url_verification(
        self,
        challenge: str,
        *,
        timestamp: int | None = None,
        signing_secret: str | None = None,
    ) -> httpx.Response:
        request = build_url_verification(
            signing_secret=signing_secret or self.signing_secret,
            challenge=challenge,
            team=self.team,
            timestamp=self._timestamp(timestamp),
        )
        return self._send(request)


def _team_of(emulator: InProcessEmulator | None) -> TeamInfo:
    if emulator is None:
        return TeamInfo()
    cfg = emulator.config
    return TeamInfo(
        team_id=cfg.team_id,
        team_domain=cfg.team_domain,
        api_app_id=cfg.app_id,
        bot_user_id=cfg.bot_user_id,
    )


def _find_button(
    message: dict[str, Any] | None, action_id: str
) -> tuple[str | None, dict[str, Any]] | None:
    if message is None:
        return None
    layouts = [message.get("blocks")]
    layouts += [a.get("blocks") for a in message.get("attachments", []) if isinstance(a, dict)]
    for blocks in layouts:
        for block_id, element in iter_elements(blocks):
            if element.get("action_id") == action_id:
                return block_id, element
    return None
