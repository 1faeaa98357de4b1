"""The emulator: an ASGI app serving Slack's Web API plus inspection endpoints, and its state."""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from bot.emulator import incoming_webhooks, socket_mode
from bot.emulator.chat_methods import CHAT_METHODS
from bot.emulator.config import EmulatedUser, EmulatorConfig
from bot.emulator.conversation_methods import CONVERSATION_METHODS
from bot.emulator.inspection import inspection_routes
from bot.emulator.models import (
    EmulatedMessage,
    EphemeralMessage,
    Fault,
    RecordedCall,
    message_to_dict,
    message_to_slack,
)
from bot.emulator.params import ParsedRequest, parse_request
from bot.emulator.ratelimit import POST_MESSAGE, RateLimiter
from bot.emulator.response_urls import RESPONSE_URL_PATH, ResponseUrlResult, respond
from bot.emulator.web.routes import web_routes
from bot.emulator.web_call import Method, WebCall, error
from bot.emulator.workspace import Notification, Workspace
from bot.emulator.workspace_methods import WORKSPACE_METHODS

logger = logging.getLogger(__name__)

SOCKET_OPEN = "apps.connections.open"
MessageCallback = Callable[[str, EmulatedMessage, str], None]


class SlackEmulator:
    """A stand-in for Slack's Web API that enforces Slack's rules and records every call."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.on_message: MessageCallback | None = None
        self._lock = threading.Lock()
        self._methods: dict[str, Method] = {
            **CHAT_METHODS,
            **WORKSPACE_METHODS,
            **CONVERSATION_METHODS,
        }
        self._limiter = self._new_limiter()
        self._ws = Workspace(self.config)
        self._calls: list[RecordedCall] = []
        self._faults: list[Fault] = []
        self._stalls: list[list[Any]] = []  # [method, seconds, calls left]
        self.stalls_started = 0
        self._hooks: dict[str, str] = {}  # incoming webhook path -> channel id; kept by reset()
        self.version = 0  # grows with every call or change: the browser view polls it
        self.socket = socket_mode.SocketModeHub(
            app_token=self.config.app_token, app_id=self.config.app_id, clock=self.config.clock
        )
        self.app = Starlette(routes=self._routes())

    def _new_limiter(self) -> RateLimiter:
        cfg = self.config
        return RateLimiter(
            post_message_rate_per_channel=cfg.post_message_rate_per_channel,
            post_message_burst=cfg.post_message_burst,
            method_limits_per_minute=cfg.method_limits_per_minute,
            clock=cfg.clock,
            retry_after_seconds=cfg.retry_after_seconds,
        )

    # -- inspection (thread-safe, returns copies) ------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return copy.deepcopy(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return copy.deepcopy([c for c in self._calls if c.method == method])

    def messages(self, channel_id: str) -> list[EmulatedMessage]:
        """Top-level messages of a channel in post order, replies nested."""
        with self._lock:
            return copy.deepcopy(self._ws.top_level.get(channel_id, []))

    def message(self, channel_id: str, ts: str) -> EmulatedMessage | None:
        with self._lock:
            found = self._ws.find(channel_id, ts)
            return copy.deepcopy(found)

    def slack_message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """A stored message in the shape Slack's API (and block_actions payloads) use."""
        with self._lock:
            found = self._ws.find(channel_id, ts)
            if found is None:
                return None
            cfg = self.config
            return copy.deepcopy(message_to_slack(found, team_id=cfg.team_id, app_id=cfg.app_id))

    @property
    def ephemerals(self) -> list[EphemeralMessage]:
        with self._lock:
            return copy.deepcopy(self._ws.ephemerals)

    @property
    def views(self) -> list[dict[str, Any]]:
        """Modals opened with views.open, oldest first."""
        with self._lock:
            return copy.deepcopy(self._ws.views)

    @property
    def view_triggers(self) -> dict[str, str]:
        """The trigger_id each view was opened with, by view id."""
        with self._lock:
            return dict(self._ws.view_triggers)

    def channel_id(self, name: str) -> str | None:
        """The id of the channel called `name` (configured or created), if there is one."""
        with self._lock:
            return next((cid for cid, n in self._ws.channels.items() if n == name), None)

    def channel_name(self, channel_id: str) -> str:
        with self._lock:
            return self._ws.channel_name(channel_id)

    def user_names(self) -> dict[str, str]:
        """The workspace's people (and the bot) by user id, e.g. to show mentions by name."""
        names = {user_id: user.name for user_id, user in self.config.users.items()}
        names[self.config.bot_user_id] = self.config.bot_name
        return names

    def channel_names(self) -> dict[str, str]:
        """Channels by id, configured and created (direct messages left out)."""
        with self._lock:
            return {cid: name for cid, name in self._ws.channels.items() if cid[0] in "CG"}

    def members(self, channel_id: str) -> set[str]:
        """Who is in the channel (conversations.create and conversations.invite change it)."""
        with self._lock:
            return set(self._ws.members_of(channel_id))

    def pins(self, channel_id: str) -> list[str]:
        """Timestamps of the channel's pinned messages, oldest pin first."""
        with self._lock:
            return list(self._ws.pins.get(channel_id, []))

    def topic(self, channel_id: str) -> str:
        with self._lock:
            return self._ws.topics.get(channel_id, "")

    def dm_channel(self, user_id: str) -> str:
        """The id of the bot's DM with `user_id` (what conversations.open returns)."""
        with self._lock:
            return self._ws.dm_channel(user_id)

    # -- control ---------------------------------------------------------------------------

    def inject_fault(
        self,
        method: str | None,
        status: int,
        count: int,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None:
        """Answer the next `count` calls to `method` (None: any method) with this failure."""
        with self._lock:
            self._faults.append(Fault(method, status, count, retry_after, error))

    def stall(self, method: str, seconds: float, count: int = 1) -> None:
        """Answer the next `count` calls to `method` only after `seconds` (a Slack that hangs);
        `stalls_started` counts the calls that began waiting."""
        with self._lock:
            self._stalls.append([method, seconds, count])

    def set_user(self, user_id: str, user: EmulatedUser) -> None:
        """Change a member (e.g. their DND or presence) while the emulator runs."""
        with self._lock:
            self.config.users[user_id] = user

    def reset(self) -> None:
        """Forget messages, calls, faults, buckets, triggers; keep config and on_message."""
        with self._lock:
            self._ws = Workspace(self.config)
            self._calls.clear()
            self._faults.clear()
            self._limiter = self._new_limiter()
            self.version += 1

    def issue_trigger_id(self) -> str:
        """A trigger_id views.open accepts once, within the trigger TTL (what Slack hands out)."""
        with self._lock:
            return self._ws.issue_trigger_id()

    def issue_response_url(
        self, base_url: str, channel: str, user: str, message_ts: str | None = None
    ) -> str:
        """A response_url on this emulator, served at `base_url` + /_emulator/response_url/..."""
        with self._lock:
            url_id = self._ws.issue_response_url(channel, user, message_ts)
        return base_url.rstrip("/") + RESPONSE_URL_PATH + url_id

    def incoming_webhook_url(self, base_url: str, channel: str) -> str:
        """A new incoming webhook posting to `channel`, served at `base_url` + /services/..."""
        with self._lock:
            channel_id = self._ws.resolve_channel(channel)
            if channel_id is None:
                raise KeyError(f"unknown channel {channel!r}")
            path = incoming_webhooks.new_hook_path(self.config.team_id)
            self._hooks[path] = channel_id
        return base_url.rstrip("/") + incoming_webhooks.PATH_PREFIX + path

    def post_user_message(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> EmulatedMessage:
        """Put a message from a person into a channel (the bot cannot edit it)."""
        with self._lock:
            notes = _frozen([self._ws.post_as_person(channel, user, text, thread_ts)])
            self.version += 1
        self._notify(notes)
        return copy.deepcopy(notes[0].message)

    def set_reaction(self, channel: str, ts: str, name: str, user: str, *, present: bool) -> None:
        """Add or remove a person's reaction, as Slack does before sending reaction events."""
        with self._lock:
            if self._ws.set_reaction(channel, ts, name, user, present=present):
                self.version += 1

    # -- HTTP ------------------------------------------------------------------------------

    def _routes(self) -> list[BaseRoute]:
        return [
            Route("/api/{method}", self._api, methods=["GET", "POST"]),
            Route(RESPONSE_URL_PATH + "{url_id}", self._response_url, methods=["POST"]),
            Route(
                incoming_webhooks.PATH_PREFIX + "{team}/{hook}/{secret}",
                self._incoming_webhook,
                methods=["POST"],
            ),
            WebSocketRoute(socket_mode.PATH, self.socket.endpoint),
            *inspection_routes(self),
            *web_routes(self),
        ]

    def _notify(self, notifications: list[Notification]) -> None:
        """Run on_message outside the lock, so the callback may read the emulator."""
        callback = self.on_message
        if callback is None:
            return
        for note in notifications:
            try:
                callback(note.channel, note.message, note.event)
            except Exception:
                # A broken terminal view must not turn a successful Slack call into a 500
                # (the bot would retry and post twice).
                logger.exception("on_message callback failed for %s", note.event)

    async def _api(self, request: Request) -> Response:
        method = str(request.path_params["method"])
        base_url = str(request.base_url)
        delay = self._take_stall(method)
        if delay:
            await asyncio.sleep(delay)
        parsed = parse_request(
            query=list(request.query_params.multi_items()),
            body=await request.body(),
            content_type=request.headers.get("content-type", ""),
            authorization=request.headers.get("authorization"),
        )
        with self._lock:
            if method == SOCKET_OPEN:  # the one method for the app-level token
                answer = _Answer(200, self.socket.open_connection(parsed.token, base_url))
            else:
                answer = self._answer(method, parsed)
            self._calls.append(
                RecordedCall(
                    method=method,
                    params=copy.deepcopy(parsed.params),
                    token=parsed.token,
                    http_status=answer.status,
                    response=copy.deepcopy(answer.body),
                    at=self.config.wall_clock(),
                )
            )
            self.version += 1
            notes = _frozen(answer.notifications)
        self._notify(notes)
        headers = {} if answer.retry_after is None else {"Retry-After": str(answer.retry_after)}
        return JSONResponse(answer.body, status_code=answer.status, headers=headers)

    def _take_stall(self, method: str) -> float:
        with self._lock:
            stall = next((s for s in self._stalls if s[0] == method and s[2] > 0), None)
            if stall is None:
                return 0.0
            stall[2] -= 1
            self.stalls_started += 1
            return float(stall[1])

    def _answer(self, method: str, parsed: ParsedRequest) -> _Answer:
        """Check faults, method, auth and rate limits in Slack's order; runs under the lock."""
        fault = next((f for f in self._faults if f.matches(method)), None)
        if fault is not None:
            fault.count -= 1
            retry_after = fault.retry_after if fault.status == 429 else None
            return _Answer(fault.status, fault.body(), retry_after)
        implementation = self._methods.get(method)
        if implementation is None:
            return _Answer(200, error("unknown_method"))
        if parsed.token is None:
            return _Answer(200, error("not_authed"))
        if parsed.token == self.config.app_token:  # app-level tokens only open Socket Mode
            return _Answer(200, error("not_allowed_token_type"))
        if not self.config.accepts_token(parsed.token):
            return _Answer(200, error("invalid_auth"))
        if parsed.error is not None:
            return _Answer(200, error(parsed.error))
        if self.config.rate_limits_enabled:
            wait = self._limiter.acquire(method, self._rate_limit_channel(method, parsed.params))
            if wait is not None:
                return _Answer(429, error("ratelimited"), wait)
        call = WebCall(self._ws, parsed.params)
        body = implementation(call)
        return _Answer(200, body, notifications=call.notifications)

    def _rate_limit_channel(self, method: str, params: dict[str, Any]) -> str | None:
        if method != POST_MESSAGE:
            return None
        raw = params.get("channel")
        ref = raw if isinstance(raw, str) else None
        # "#alerts" and "C0ALERTS" share one bucket, like they share one channel.
        return self._ws.resolve_channel(ref) or str(raw)

    async def _response_url(self, request: Request) -> Response:
        result = self.post_to_response_url(str(request.path_params["url_id"]), await request.body())
        return PlainTextResponse(result.body, status_code=result.status)

    def post_to_response_url(self, url: str, body: bytes) -> ResponseUrlResult:
        """Apply one post to a response_url this emulator issued (its full URL or its id)."""
        url_id = url.rsplit("/", 1)[-1]
        with self._lock:
            result = respond(self._ws, url_id, body)
            self._record_plain("response_url", result.params, result.status, result.body)
            notes = _frozen(result.notifications)
        self._notify(notes)
        return result

    async def _incoming_webhook(self, request: Request) -> Response:
        p = request.path_params
        path = f"{p['team']}/{p['hook']}/{p['secret']}"
        params = incoming_webhooks.parse_body(
            await request.body(), request.headers.get("content-type", "")
        )
        retry_after: int | None = None
        with self._lock:
            channel = self._hooks.get(path)
            fault = next((f for f in self._faults if f.matches(incoming_webhooks.METHOD)), None)
            if fault is not None:
                fault.count -= 1
                result = incoming_webhooks.WebhookResult(fault.status, fault.body()["error"], {})
                retry_after = fault.retry_after if fault.status == 429 else None
            elif channel is None or params is None:
                status, error = (404, "no_service") if channel is None else (400, "invalid_payload")
                result = incoming_webhooks.WebhookResult(status, error, {})
            elif self.config.rate_limits_enabled and (
                wait := self._limiter.acquire(POST_MESSAGE, channel)
            ):
                result = incoming_webhooks.WebhookResult(429, "rate_limited", params)
                retry_after = wait
            else:
                result = incoming_webhooks.post(self._ws, channel, params)
            self._record_plain(incoming_webhooks.METHOD, result.params, result.status, result.body)
            notes = _frozen(result.notifications)
        self._notify(notes)
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        return PlainTextResponse(result.body, status_code=result.status, headers=headers)

    def _record_plain(self, method: str, params: dict[str, Any], status: int, body: str) -> None:
        """Record a call answered in plain text (response_url, incoming webhook); lock held."""
        response = {"ok": status == 200, "body": body}
        self.version += 1
        self._calls.append(
            RecordedCall(
                method, copy.deepcopy(params), None, status, response, self.config.wall_clock()
            )
        )

    def snapshot_channel(self, channel_id: str) -> list[dict[str, Any]]:
        """Messages of a channel as plain dicts (for the HTTP inspection endpoints)."""
        with self._lock:
            return [message_to_dict(m) for m in self._ws.top_level.get(channel_id, [])]


def _frozen(notifications: list[Notification]) -> list[Notification]:
    """Copies taken under the lock: the callback must see the message as it was just then."""
    return [Notification(n.channel, copy.deepcopy(n.message), n.event) for n in notifications]


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    retry_after: int | None = None
    notifications: list[Notification] = field(default_factory=list)
