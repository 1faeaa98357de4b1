"""The OpenAPI document of the webhook routes: complete, self-contained, from the edge models."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.alerts.payload import AlertmanagerWebhook
from handlers.openapi import ALERTMANAGER_PATH, SENTRY_PATH, openapi_document


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def test_every_reference_resolves_inside_the_document() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    found = set(refs(document))
    assert found
    for ref in found:
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in schemas


def test_the_document_is_plain_json() -> None:
    document = openapi_document()
    assert json.loads(json.dumps(document)) == document
    assert document["openapi"].startswith("3.1")


@pytest.mark.parametrize("path", [ALERTMANAGER_PATH, SENTRY_PATH])
def test_each_webhook_documents_its_auth_refusals_and_the_retry_status(path: str) -> None:
    document = openapi_document()
    operation = document["paths"][path]["post"]
    [requirement] = operation["security"]
    assert set(requirement) <= set(document["components"]["securitySchemes"])
    assert set(operation["responses"]) == {"200", "400", "401", "408", "413", "422", "503"}
    assert "Retry-After" in operation["responses"]["503"]["headers"]
    assert operation["requestBody"]["required"] is True


def test_the_alertmanager_body_is_the_edge_models_schema() -> None:
    document = openapi_document()
    body = document["paths"][ALERTMANAGER_PATH]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AlertmanagerWebhook"
    }
    schema = document["components"]["schemas"]["AlertmanagerWebhook"]
    assert set(schema["required"]) == {"version", "groupKey", "status", "alerts"}
    assert set(schema["properties"]) == {
        field.alias or name for name, field in AlertmanagerWebhook.model_fields.items()
    }


def test_sentry_ids_keep_their_pattern_in_the_document() -> None:
    # The ids end up in Redis keys and Sentry URLs; the fuzzer must know what is allowed.
    schemas = openapi_document()["components"]["schemas"]
    issue_id = schemas["SentryIssuePayload"]["properties"]["id"]
    assert issue_id["pattern"] == "^[A-Za-z0-9]{1,64}$"


def test_the_sentry_resource_header_is_required() -> None:
    operation = openapi_document()["paths"][SENTRY_PATH]["post"]
    resource = next(p for p in operation["parameters"] if p["name"] == "Sentry-Hook-Resource")
    assert resource["in"] == "header"
    assert resource["required"] is True
