"""Hostile input against the parsers: anything either parses or is refused with the documented
error, and what parses can be folded into a card and rendered without an exception.

Random JSON rarely gets past the first field, so the deep properties start from the project's
own real-world payloads and mutate them: replace, drop or add values anywhere in the tree,
with leaves chosen to hit edge cases (naive and offset times, huge numbers, numeric strings,
overlong text, markup).
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bot.alerts.payload import AlertmanagerWebhook
from bot.alerts.rules import apply_notification, card_id_for_group
from bot.cards.render import render as render_card
from bot.models.card import TriageCard
from bot.models.sentry import SentryIssue, SentryMetricAlert
from bot.sentry.payload import (
    HANDLED,
    SentryDelivery,
    SentryEventAlertWebhook,
    SentryIssueWebhook,
    SentryMetricAlertWebhook,
)
from bot.sentry.rules import apply_event_alert, apply_issue_webhook, apply_metric_alert
from handlers.http_edge import Rejection, parse_model
from handlers.webhooks.sentry import SentryHook, parse_hook
from playbooks.catalog.quarantine import PLAYBOOK as QUARANTINE
from playbooks.definition import Playbook
from playbooks.params import ParamError, parse_params
from tests.fixtures.alertmanager_payloads import QUIRKS as AM_QUIRKS
from tests.fixtures.alertmanager_payloads import group_payload
from tests.fixtures.sample_playbook import PLAYBOOKS as SAMPLE_PLAYBOOKS
from tests.fixtures.sentry_payloads import (
    IGNORED,
    event_alert_body,
    issue_body,
    metric_alert_body,
)
from tests.fixtures.sentry_payloads import QUIRKS as SENTRY_QUIRKS

T = TypeVar("T")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FALLBACK_URL = "https://sentry.example.net/organizations/acme/issues/1/"
EDGE_MODELS: list[type[BaseModel]] = [
    AlertmanagerWebhook,
    SentryDelivery,
    SentryIssueWebhook,
    SentryEventAlertWebhook,
    SentryMetricAlertWebhook,
]
HOSTILE = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])

AM_BODIES: list[Any] = [json.loads(raw) for raw in AM_QUIRKS.values()] + [
    group_payload("Disk", alerts=2, resolved=1),
    group_payload("Disk", status="resolved", alerts=0, resolved=2),
]
SENTRY_BODIES: list[tuple[str, Any]] = [*SENTRY_QUIRKS.values(), *IGNORED.values()]

# --- strategies ------------------------------------------------------------------------------

offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
times = st.datetimes(timezones=st.none() | st.just(UTC) | offsets).map(lambda t: t.isoformat())
edge_strings = st.sampled_from(
    [
        "",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "2026-11-23T10:00:00",
        "12",
        "-1",
        "1e400",
        "firing",
        "resolved",
        "<!channel> <@U0ALICE> <https://evil.example|click>",
        "x" * 9000,
        "web-1; rm -rf /",
    ]
)
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | times
    | edge_strings
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def locations(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside `node` (dict keys and list indexes)."""
    children: Iterable[tuple[Any, Any]] = []
    if isinstance(node, dict):
        children = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    for key, child in children:
        yield (*at, key)
        yield from locations(child, (*at, key))


def parent_of(body: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        body = body[key]
    return body


@st.composite
def mutated(draw: st.DrawFn, bodies: list[Any]) -> Any:
    """A real payload with one to four values replaced, dropped or added somewhere."""
    body = copy.deepcopy(draw(st.sampled_from(bodies)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = list(locations(body))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = parent_of(body, path), path[-1]
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace":
            parent[key] = draw(json_values)
        elif action == "drop":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(json_values)
        else:
            parent.insert(key, draw(json_values))
    return body


def edge(parse: Callable[..., T], *args: Any) -> T | None:
    """What the route would act on, or None after checking the refusal is a one-line 4xx."""
    try:
        return parse(*args)
    except Rejection as rejection:
        refusal = rejection
    assert refusal.status in (400, 422)
    assert refusal.reason
    assert "\n" not in refusal.reason
    return None


# --- the edge models -------------------------------------------------------------------------


@pytest.mark.parametrize("model", EDGE_MODELS, ids=lambda m: m.__name__)
@HOSTILE
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_either_parse_or_raise_a_validation_error(
    model: type[BaseModel], raw: bytes
) -> None:
    with contextlib.suppress(ValidationError):
        model.model_validate_json(raw)


@pytest.mark.parametrize("model", EDGE_MODELS, ids=lambda m: m.__name__)
@HOSTILE
@given(value=json_values)
def test_arbitrary_json_values_either_parse_or_raise_a_validation_error(
    model: type[BaseModel], value: Any
) -> None:
    with contextlib.suppress(ValidationError):
        model.model_validate(value)


@HOSTILE
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_the_edge_refuses_anything_unparsable_with_one_line_and_a_4xx(raw: bytes) -> None:
    for model in EDGE_MODELS:
        edge(parse_model, raw, model)


# --- Alertmanager: parse, fold, render ------------------------------------------------------


def render(card_id: str, subject: Any) -> None:
    card = TriageCard(
        card_id=card_id, channel="C0ALERTS", subject=subject, created_at=NOW, updated_at=NOW
    )
    message = render_card(card, NOW)
    assert message.blocks


@HOSTILE
@given(bodies=st.lists(mutated(AM_BODIES), min_size=1, max_size=3))
def test_mutated_alertmanager_payloads_are_refused_or_become_a_renderable_card(
    bodies: list[Any],
) -> None:
    group = None
    for body in bodies:
        hook = edge(parse_model, json.dumps(body).encode(), AlertmanagerWebhook)
        if hook is None:
            continue
        group = apply_notification(group, hook, NOW).group
        render(card_id_for_group(hook.group_key), group)


any_time = times | edge_strings | st.floats(min_value=-1e11, max_value=1e11)


@st.composite
def alertmanager_with_times(draw: st.DrawFn) -> dict[str, Any]:
    """A group whose alerts carry times in any form, some without a status to infer."""
    body = group_payload("Clock", alerts=draw(st.integers(min_value=1, max_value=3)))
    for alert in cast("list[dict[str, Any]]", body["alerts"]):
        alert["startsAt"] = draw(any_time)
        alert["endsAt"] = draw(any_time | st.just("0001-01-01T00:00:00Z"))
        if draw(st.booleans()):
            del alert["status"]
    return body


@HOSTILE
@given(bodies=st.lists(alertmanager_with_times(), min_size=1, max_size=3))
def test_alert_times_in_any_form_are_refused_or_folded_and_rendered(
    bodies: list[dict[str, Any]],
) -> None:
    group = None
    for body in bodies:
        hook = edge(parse_model, json.dumps(body).encode(), AlertmanagerWebhook)
        if hook is None:
            continue
        group = apply_notification(group, hook, NOW).group
        render(card_id_for_group(hook.group_key), group)


# --- Sentry: parse by resource, fold, render -------------------------------------------------


def fold(
    current: SentryIssue | SentryMetricAlert | None, hook: SentryHook
) -> SentryIssue | SentryMetricAlert | None:
    """Fold like the intake does; deliveries of another kind than `current` start afresh."""
    if isinstance(hook, SentryMetricAlertWebhook):
        metric = current if isinstance(current, SentryMetricAlert) else None
        update = apply_metric_alert(metric, hook, NOW)
        return update.subject if update is not None else metric
    issue = current if isinstance(current, SentryIssue) else None
    if isinstance(hook, SentryIssueWebhook):
        return apply_issue_webhook(issue, hook, FALLBACK_URL).subject
    issue_id = hook.data.event.resolved_issue_id()
    if issue_id is None:
        return current
    return apply_event_alert(issue, hook, issue_id, FALLBACK_URL).subject


def delivery(resource: str, body: Any) -> st.SearchStrategy[tuple[str, Any]]:
    """The body mutated, under its own resource or (less often) another handled one."""
    resources = st.just(resource) | st.sampled_from(sorted(HANDLED))
    return st.tuples(resources, mutated([body]))


sentry_deliveries = st.sampled_from(SENTRY_BODIES).flatmap(lambda rb: delivery(*rb))


@st.composite
def sentry_with_times(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """An issue, event alert or metric alert delivery whose times come in any form."""
    kind = draw(st.sampled_from(["issue", "event_alert", "metric_alert"]))
    if kind == "issue":
        body = issue_body(firstSeen=draw(any_time), lastSeen=draw(any_time))
    elif kind == "event_alert":
        body = event_alert_body()
        body["data"]["event"].update(timestamp=draw(any_time), datetime=draw(any_time))
    else:
        body = metric_alert_body(action=draw(st.sampled_from(["critical", "resolved"])))
        body["data"]["metric_alert"].update(
            date_started=draw(any_time), date_closed=draw(st.none() | any_time)
        )
    return kind, body


@HOSTILE
@given(deliveries=st.lists(sentry_with_times(), min_size=1, max_size=3))
def test_sentry_times_in_any_form_are_refused_or_folded_and_rendered(
    deliveries: list[tuple[str, dict[str, Any]]],
) -> None:
    subject: SentryIssue | SentryMetricAlert | None = None
    for resource, body in deliveries:
        hook = edge(parse_hook, json.dumps(body).encode(), resource)
        if hook is None:
            continue
        subject = fold(subject, hook)
        if subject is not None:
            render("sentry-card", subject)


@HOSTILE
@given(deliveries=st.lists(sentry_deliveries, min_size=1, max_size=3))
def test_mutated_sentry_deliveries_are_refused_or_become_a_renderable_card(
    deliveries: list[tuple[str, Any]],
) -> None:
    subject: SentryIssue | SentryMetricAlert | None = None
    for resource, body in deliveries:
        hook = edge(parse_hook, json.dumps(body).encode(), resource)
        if hook is None:
            continue
        subject = fold(subject, hook)
        if subject is not None:
            render("sentry-card", subject)


# --- slash-command text -> playbook parameters -----------------------------------------------

SAFE_TARGET = re.compile(r"^[a-z0-9.-]{1,253}$")
SHELL_METACHARACTERS = ";|&$`<> \n\t"
PLAYBOOKS = [QUARANTINE, *SAMPLE_PLAYBOOKS]

command_words = st.lists(
    st.sampled_from(["web-1", "target=", "pause=", "--", "=", '"', "'", "\\", "<!channel>"])
    | st.text(max_size=15),
    max_size=6,
).map(" ".join)
host_parts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
quotings = st.sampled_from(
    [
        lambda word: word,
        shlex.quote,
        lambda word: f'"{word}"',
        lambda word: f"target={shlex.quote(word)}",
    ]
)


def parsed(playbook: Playbook, text: str) -> BaseModel | ParamError:
    try:
        return parse_params(playbook, text)
    except ParamError as error:
        return error


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda p: p.name)
@HOSTILE
@given(text=st.text(max_size=200) | command_words)
def test_any_command_text_gives_safe_parameters_or_problems_without_markup(
    playbook: Playbook, text: str
) -> None:
    result = parsed(playbook, text)
    if isinstance(result, ParamError):
        assert result.problems
        for problem in result.problems:
            assert "<" not in problem
            assert ">" not in problem
    else:
        assert SAFE_TARGET.fullmatch(result.model_dump()["target"])


@HOSTILE
@given(
    left=host_parts,
    bad=st.text(alphabet=SHELL_METACHARACTERS, min_size=1, max_size=5),
    right=host_parts,
    quote=quotings,
)
def test_a_target_with_shell_metacharacters_is_always_rejected(
    left: str, bad: str, right: str, quote: Callable[[str], str]
) -> None:
    result = parsed(QUARANTINE, quote(left + bad + right))
    assert isinstance(result, ParamError), result
