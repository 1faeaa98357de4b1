"""`seawall postmortem <incident-id>`: read the incident and its timeline, write Markdown.

Only REDIS_URL (or the REDIS_SENTINEL_* settings) is needed, so it runs on a laptop with a
tunnel to Redis and nothing else set.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core import keys
from bot.core.clock import SystemClock
from bot.core.config import Settings, sentinel_addresses
from bot.core.errors import SeawallError
from bot.core.redis_target import RedisTarget
from bot.incidents.postmortem import render_postmortem
from bot.incidents.rules import CHANNEL_PREFIX
from bot.models.incident import Incident, incident_card_id
from bot.store import REDIS_ERRORS, Store, connect
from bot.timeline import Timeline

Echo = Callable[..., None]


class PostmortemSettings(BaseSettings):
    """The settings the postmortem reads, with the same names and defaults as Settings."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    redis_url: str = Field(default=Settings.model_fields["redis_url"].default)
    redis_sentinels: str | None = None
    redis_sentinel_master: str | None = None
    redis_sentinel_password: str | None = None

    def target(self) -> RedisTarget:
        return RedisTarget(
            url=self.redis_url,
            sentinels=sentinel_addresses(self.redis_sentinels) if self.redis_sentinels else (),
            master=self.redis_sentinel_master,
            sentinel_password=self.redis_sentinel_password,
        )


def candidate_ids(ref: str) -> list[str]:
    """What a person may type: the id, the channel name, or the channel name with '#'."""
    ref = ref.strip().lstrip("#")
    found = [ref]
    if ref.startswith(CHANNEL_PREFIX):
        found.append(ref.removeprefix(CHANNEL_PREFIX))
    return found


@dataclass(frozen=True)
class Draft:
    incident_id: str
    entries: int
    document: str


async def draft_postmortem(where: str | RedisTarget, ref: str) -> Draft:
    """The Markdown for incident `ref`; SeawallError says in one sentence why there is none."""
    target = where if isinstance(where, RedisTarget) else RedisTarget(url=where)
    redis = connect(target)
    clock = SystemClock()
    store = Store(redis, clock)
    try:
        incident = None
        for incident_id in candidate_ids(ref):
            card = await store.get_card(incident_card_id(incident_id))
            subject = card.subject if card is not None else None
            if isinstance(subject, Incident):
                incident = subject
                break
        if incident is None:
            open_ids: list[str] = await redis.zrange(keys.OPEN_INCIDENTS, 0, 9)
            known = f" Open incidents: {', '.join(open_ids)}." if open_ids else ""
            raise SeawallError(
                f"No incident {ref!r} in Seawall's Redis at {target.describe()}; nothing was "
                "written. An incident id is its channel name without 'inc-', e.g. "
                f"20261123-db-down.{known}"
            )
        entries = await Timeline(redis=redis, clock=clock).read(incident.incident_id)
    except REDIS_ERRORS as exc:
        raise SeawallError(
            f"Seawall cannot reach Redis at {target.describe()} ({exc}); nothing was written. "
            "Check REDIS_URL (or REDIS_SENTINELS and REDIS_SENTINEL_MASTER)."
        ) from exc
    finally:
        await redis.aclose()
    document = render_postmortem(incident, entries, clock.now())
    return Draft(incident.incident_id, len(entries), document)


def write_postmortem(
    where: str | RedisTarget, ref: str, output: Path | None, force: bool, echo: Echo
) -> int:
    """Exit status: 0 written, 1 not written (the reason in one sentence on stderr)."""
    if output is not None and output.exists() and not force:
        echo(f"{output} already exists; nothing was written. Add --force to replace it.", err=True)
        return 1
    try:
        draft = asyncio.run(draft_postmortem(where, ref))
    except SeawallError as exc:
        echo(str(exc), err=True)
        return 1
    if output is None:
        echo(draft.document, nl=False)
        return 0
    try:
        output.write_text(draft.document, encoding="utf-8")
    except OSError as exc:
        echo(f"Cannot write {output} ({exc.strerror}); nothing was written.", err=True)
        return 1
    echo(
        f"Wrote the postmortem of {draft.incident_id} ({draft.entries} timeline entries) "
        f"to {output}.",
        err=True,
    )
    return 0
