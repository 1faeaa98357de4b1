"""Schemathesis fuzzes the webhook routes from the OpenAPI document the app serves.

The live app runs on a real port against a real Redis and the Slack emulator, with valid
credentials on every request, so the generated bodies reach the parsers and the store. The
poster is not started: the web process alone is under test, and nothing else may write to
Redis while a refused request is shown to have changed nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.sentry.payload import HANDLED
from handlers.http_edge import Rejection
from handlers.openapi import ALERTMANAGER_PATH, CHANGE_PATH, SENTRY_PATH
from handlers.webhooks.sentry import parse_hook
from tests.conftest import StackFactory
from tests.fixtures.sentry_payloads import sign
from tests.support.redis_server import state_keys
from tests.support.stack import ALERTMANAGER_TOKEN, CHANGE_TOKEN, SENTRY_SECRET, SeawallStack

pytestmark = pytest.mark.integration

AnyCase = Case[Any]

EXAMPLES = 50
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Schema-valid requests must be accepted. Only in positive mode: in negative mode the test
# pairs bodies with resource headers itself, so a body may be valid for another resource.
CHECKS_BY_MODE = {
    GenerationMode.POSITIVE: [*CHECKS, positive_data_acceptance],
    GenerationMode.NEGATIVE: CHECKS,
}


@pytest.fixture
def web_only(make_stack: StackFactory) -> SeawallStack:
    return make_stack(poster=False, worker=False)


@pytest.fixture
def store(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def seawall_state(store: redis.Redis) -> dict[bytes, bytes | None]:
    """Every seawall:* state key with its serialised value (type and content, not TTL)."""
    keys = state_keys(store)
    with store.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.dump(key)
        return dict(zip(keys, pipe.execute(), strict=True))


def raw_body(case: AnyCase) -> bytes:
    """The exact bytes sent, so a Sentry signature can cover them."""
    body: Any = case.body
    if isinstance(body, NotSet):
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str) and case.media_type != "application/json":
        return body.encode()
    return json.dumps(body, default=str).encode()


def resource_matching(body: bytes) -> str | None:
    """The handled resource whose model parses this body, if any."""
    for resource in sorted(HANDLED):
        try:
            if parse_hook(body, resource) is not None:
                return resource
        except Rejection:
            continue
    return None


def choose_resource(case: AnyCase, data: st.DataObject, mode: GenerationMode) -> None:
    """The header and the body are generated apart; pair them so bodies reach the models."""
    headers = case.headers if case.headers is not None else {}
    if mode is GenerationMode.POSITIVE:
        resource = resource_matching(raw_body(case))
    else:
        resource = data.draw(st.sampled_from([None, *sorted(HANDLED)]), label="resource")
    if resource is not None:
        headers["Sentry-Hook-Resource"] = resource
    case.headers = headers


def credentials(case: AnyCase, body: bytes) -> dict[str, str]:
    if case.operation.path == SENTRY_PATH:
        return {"Sentry-Hook-Signature": sign(body, SENTRY_SECRET)}
    if case.operation.path == CHANGE_PATH:
        return {"Authorization": f"Bearer {CHANGE_TOKEN}"}
    return {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("path", [ALERTMANAGER_PATH, SENTRY_PATH, CHANGE_PATH])
def test_fuzzed_webhooks_never_fail_conform_and_refusals_change_nothing(
    web_only: SeawallStack, store: redis.Redis, path: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_url(f"{web_only.url}/openapi.json")
    schema.config.generation.update(with_security_parameters=False)
    operation = schema[path]["POST"]
    statuses: list[int] = []
    cards: set[str] = set()

    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        # CI replays the same examples every run; SEAWALL_FUZZ_EXPLORE=1 explores new ones.
        derandomize=not os.environ.get("SEAWALL_FUZZ_EXPLORE"),
    )
    def one_request(case: AnyCase, data: st.DataObject) -> None:
        body = raw_body(case)
        if path == SENTRY_PATH:
            choose_resource(case, data, mode)
        before = seawall_state(store)
        response = case.call(base_url=web_only.url, headers=credentials(case, body), data=body)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS_BY_MODE[mode])
        if response.status_code == 200:
            answer = response.json()
            stored = answer.get("card") or answer.get("change")
            if stored:
                cards.add(stored)
        if 400 <= response.status_code < 500:
            assert response.text.endswith("\n")
            assert response.text.count("\n") == 1
            assert seawall_state(store) == before, f"a refused request changed Redis: {body!r}"

    one_request()
    assert all(s < 500 for s in statuses)
    if mode is GenerationMode.POSITIVE:
        assert cards, "no generated request reached a card"
    else:
        assert any(400 <= s < 500 for s in statuses), "no generated request was refused"
