"""State records of the emulator: messages, ephemerals, recorded calls and injected faults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

MessageEvent = Literal["posted", "updated", "reply", "deleted"]


@dataclass
class EmulatedMessage:
    """One message as the emulator stores it; replies hang under their thread parent."""

    channel: str
    ts: str
    text: str
    user: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    edits: int = 0
    replies: list[EmulatedMessage] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    bot_id: str | None = None


@dataclass(frozen=True)
class EphemeralMessage:
    """A message only `user` sees: chat.postEphemeral or an ephemeral response_url post."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    source: Literal["chat.postEphemeral", "response_url"]
    replace_original: bool = False
    thread_ts: str | None = None
    at: float = 0.0


@dataclass(frozen=True)
class RecordedCall:
    """One request the emulator answered, including the ones it refused."""

    method: str
    params: dict[str, Any]
    token: str | None
    http_status: int
    response: dict[str, Any]
    at: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Fault:
    """An injected failure answered instead of the next `count` matching calls."""

    method: str | None
    status: int
    count: int
    retry_after: int = 1
    error: str | None = None

    def matches(self, method: str) -> bool:
        return self.count > 0 and (self.method is None or self.method == method)

    def body(self) -> dict[str, Any]:
        default = "ratelimited" if self.status == 429 else "internal_error"
        return {"ok": False, "error": self.error or default}


@dataclass
class ResponseUrl:
    """A response_url handed to the bot: where it points and how often it may still be used."""

    channel: str
    user: str
    message_ts: str | None
    issued_at: float
    uses: int = 0


def message_to_slack(message: EmulatedMessage, *, team_id: str, app_id: str) -> dict[str, Any]:
    """The message in the shape Slack returns it (chat.postMessage `message`, history)."""
    out: dict[str, Any] = {
        "type": "message",
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
        "team": team_id,
    }
    if message.bot_id:
        out["bot_id"] = message.bot_id
        out["app_id"] = app_id
    if message.blocks:
        out["blocks"] = message.blocks
    if message.attachments:
        out["attachments"] = message.attachments
    if message.metadata is not None:
        out["metadata"] = message.metadata
    if message.thread_ts:
        out["thread_ts"] = message.thread_ts
    if message.replies:
        out["thread_ts"] = message.ts
        out["reply_count"] = len(message.replies)
        out["latest_reply"] = message.replies[-1].ts
    if message.edits:
        out["edited"] = {"user": message.user, "ts": message.ts}
    if message.reactions:
        out["reactions"] = [
            {"name": name, "users": list(users), "count": len(users)}
            for name, users in message.reactions.items()
        ]
    return out


def message_to_dict(message: EmulatedMessage) -> dict[str, Any]:
    """Full emulator view of a message (for the HTTP inspection endpoints)."""
    return asdict(message)
