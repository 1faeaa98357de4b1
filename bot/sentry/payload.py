"""Sentry integration-platform webhook bodies, parsed at the edge.

Real senders vary (see the Sentry fixtures in tests/fixtures/sentry_payloads.py): `count` is
a string, ids are strings in one place and integers in another, `actor` may be missing,
`permalink` is often null, event alerts carry `tags` as [key, value] pairs, a float epoch
`timestamp`, an integer `project` and sometimes no `issue_id`. The models accept those shapes
and constrain what later becomes a card id or part of a URL.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.core.times import UtcDatetime

# Which (resource, action) pairs Seawall acts on; every other delivery is acknowledged and
# ignored. Sentry's code names the issue action "ignored", its docs "archived": both count.
IssueAction = Literal["created", "resolved", "assigned", "ignored", "archived", "unresolved"]
EventAlertAction = Literal["triggered"]
MetricAlertAction = Literal["critical", "warning", "resolved", "open"]
HANDLED: dict[str, frozenset[str]] = {
    "issue": frozenset(get_args(IssueAction)),
    "event_alert": frozenset(get_args(EventAlertAction)),
    "metric_alert": frozenset(get_args(MetricAlertAction)),
}

# Sentry-Hook-Resource values look like "issue", "event_alert", "seer"; anything else is
# refused rather than logged or used.
RESOURCE_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_ISSUE_IN_URL = re.compile(r"/issues/(\d{1,64})/")
_PROJECT_IN_EVENT_URL = re.compile(r"/api/0/projects/[^/]+/([A-Za-z0-9_.-]{1,100})/events/")

TEXT_MAX = 8192  # generous: cards truncate to Slack's limits anyway


def _number_to_text(value: object) -> object:
    # Sentry serialises some ids as strings and others (assignee, actor) as integers.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# An id that becomes part of a card id, a Redis key and a Sentry API URL. The constraint
# comes before the validator so that the JSON schema (GET /openapi.json) shows it too.
SentryId = Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,64}$"), BeforeValidator(_number_to_text)]
LooseId = Annotated[str, Field(max_length=200), BeforeValidator(_number_to_text)]


def _cut(value: object) -> object:
    # A very long title or description is cut, not refused: losing the alert would be worse.
    return value[:TEXT_MAX] if isinstance(value, str) else value


def _drop_long_url(value: object) -> object:
    # A cut URL would lead somewhere wrong; an absurdly long one is dropped instead.
    return None if isinstance(value, str) and len(value) > TEXT_MAX else value


Text = Annotated[str, BeforeValidator(_cut)]
Url = Annotated[str | None, BeforeValidator(_drop_long_url)]


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class SentryActor(_Loose):
    """Who acted: a user (integer id), or Sentry itself (`{"id": "sentry"}`)."""

    type: str | None = None
    id: LooseId | None = None
    name: Text | None = None

    def label(self) -> str:
        if self.type == "application" and self.id == "sentry":
            return "Sentry"
        return self.name or self.id or "someone"


class SentryInstallation(_Loose):
    uuid: str | None = Field(default=None, max_length=64)


class SentryDelivery(_Loose):
    """Just the action: read first, so a delivery Seawall ignores is never parsed further."""

    action: str = Field(max_length=64)


class SentryEnvelope(SentryDelivery):
    """The part every delivery Seawall acts on shares."""

    installation: SentryInstallation | None = None
    actor: SentryActor | None = None


class SentryProjectRef(_Loose):
    id: LooseId | None = None
    name: Text | None = None
    slug: str | None = Field(default=None, max_length=200)


class SentryAssignee(_Loose):
    """A user or team: `data.assignee` (integer id) or `issue.assignedTo` (string id)."""

    type: str | None = None
    id: LooseId | None = None
    name: Text | None = None
    email: Text | None = None


class SentryIssuePayload(_Loose):
    id: SentryId
    short_id: Text | None = Field(default=None, alias="shortId")
    title: Text = ""
    culprit: Text | None = None
    level: str | None = Field(default=None, max_length=32)
    status: str | None = Field(default=None, max_length=64)
    substatus: str | None = Field(default=None, max_length=64)
    count: int | None = Field(default=None, ge=0)  # a numeric string on the wire
    user_count: int | None = Field(default=None, alias="userCount", ge=0)
    first_seen: UtcDatetime | None = Field(default=None, alias="firstSeen")
    last_seen: UtcDatetime | None = Field(default=None, alias="lastSeen")
    permalink: Url = None
    web_url: Url = None
    project: SentryProjectRef | None = None
    assigned_to: SentryAssignee | None = Field(default=None, alias="assignedTo")


class SentryIssueData(_Loose):
    issue: SentryIssuePayload
    resolution_type: str | None = Field(default=None, max_length=64)
    assignee: SentryAssignee | None = None


class SentryIssueWebhook(SentryEnvelope):
    action: IssueAction  # narrower than the envelope's str
    data: SentryIssueData


def _tag_pairs(value: object) -> object:
    # Issue-alert events carry tags as [key, value] pairs; the API elsewhere uses
    # {"key": ..., "value": ...} objects. Both become pairs, and a malformed tag is dropped
    # rather than costing the whole alert a 422.
    if not isinstance(value, list):
        return []
    pairs: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, dict):
            key, val = item.get("key"), item.get("value")
        elif isinstance(item, list) and len(item) == 2:
            key, val = item
        else:
            continue
        if isinstance(key, str) and isinstance(val, str):
            pairs.append((key, val))
    return pairs


class SentryEvent(_Loose):
    event_id: str | None = Field(default=None, max_length=64)
    issue_id: SentryId | None = None
    issue_url: Url = None
    url: Url = None
    web_url: Url = None
    title: Text | None = None
    message: Text | None = None
    culprit: Text | None = None
    level: str | None = Field(default=None, max_length=32)
    environment: Text | None = None
    release: Text | None = None
    project: LooseId | None = None  # an integer project id, never the slug
    timestamp: UtcDatetime | None = None  # float epoch seconds
    occurred: UtcDatetime | None = Field(default=None, alias="datetime")
    tags: Annotated[list[tuple[str, str]], BeforeValidator(_tag_pairs)] = Field(
        default_factory=list
    )

    def tag(self, key: str) -> str | None:
        return next((v for k, v in self.tags if k == key and v), None)

    def resolved_issue_id(self) -> str | None:
        """`issue_id`, else the id in `issue_url` (older deliveries carry only the URL)."""
        if self.issue_id:
            return self.issue_id
        match = _ISSUE_IN_URL.search(self.issue_url or "")
        return match.group(1) if match else None

    def project_slug(self) -> str | None:
        """The slug hidden in the event's API URL (`project` itself is only a number)."""
        match = _PROJECT_IN_EVENT_URL.search(self.url or "")
        return match.group(1) if match else None


class SentryIssueAlert(_Loose):
    title: Text | None = None


class SentryEventAlertData(_Loose):
    event: SentryEvent
    triggered_rule: Text | None = None
    issue_alert: SentryIssueAlert | None = None


class SentryEventAlertWebhook(SentryEnvelope):
    action: EventAlertAction
    data: SentryEventAlertData


class SentryAlertRule(_Loose):
    id: LooseId | None = None
    name: Text | None = None
    projects: list[str] = Field(default_factory=list)


class SentryMetricAlertPayload(_Loose):
    id: SentryId
    identifier: LooseId | None = None
    title: Text | None = None
    # `status` and `type` are Sentry's internal numbers; the delivery's `action` names the
    # status in words, so they are not read (and cannot make a delivery fail).
    projects: list[str] = Field(default_factory=list)
    date_started: UtcDatetime | None = None
    date_detected: UtcDatetime | None = None
    date_closed: UtcDatetime | None = None
    alert_rule: SentryAlertRule | None = None


class SentryMetricAlertData(_Loose):
    metric_alert: SentryMetricAlertPayload
    description_title: Text | None = None
    description_text: Text | None = None
    web_url: Url = None


class SentryMetricAlertWebhook(SentryEnvelope):
    action: MetricAlertAction
    data: SentryMetricAlertData


def is_handled(resource: str, action: str) -> bool:
    return action in HANDLED.get(resource, frozenset())
