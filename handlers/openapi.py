"""GET /openapi.json: an OpenAPI 3.1 description of the webhook routes.

Built from the pydantic edge models the routes parse with, so the document cannot drift from
what is accepted; the auth, the size cap and the one-line refusals are described beside them.
Senders' engineers read it, and the fuzzing tests generate hostile requests from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.alerts.payload import AlertmanagerWebhook
from bot.changes.payload import ChangeReport
from bot.sentry.payload import (
    HANDLED,
    RESOURCE_PATTERN,
    SentryEventAlertWebhook,
    SentryIssueWebhook,
    SentryMetricAlertWebhook,
)
from handlers.http_edge import BODY_TIMEOUT_S, MAX_BODY_BYTES

ALERTMANAGER_PATH = "/webhooks/alertmanager"
SENTRY_PATH = "/webhooks/sentry"
CHANGE_PATH = "/webhooks/change"
SENTRY_MODELS: tuple[type[BaseModel], ...] = (
    SentryIssueWebhook,
    SentryEventAlertWebhook,
    SentryMetricAlertWebhook,
)
CARD_OUTCOMES = ["created", "updated", "unchanged", "duplicate"]
REFUSALS = {
    "400": "The body is not JSON, or a required header is missing or malformed.",
    "401": "Missing or wrong credentials.",
    "408": f"The body took longer than SEAWALL_BODY_TIMEOUT ({BODY_TIMEOUT_S:g} s by default).",
    "413": f"The body is larger than {MAX_BODY_BYTES} bytes; it was not read.",
    "422": "The JSON does not have the documented shape; the line names the first field.",
}


def endpoint() -> Callable[[Request], Awaitable[Response]]:
    document = openapi_document()  # built once per app, when the app is built

    async def serve(request: Request) -> Response:
        return JSONResponse(document)

    return serve


def openapi_document() -> dict[str, Any]:
    """The whole document; request bodies are the edge models' validation schemas."""
    models: list[type[BaseModel]] = [AlertmanagerWebhook, *SENTRY_MODELS, ChangeReport]
    refs, definitions = models_json_schema(
        [(model, "validation") for model in models],
        ref_template="#/components/schemas/{model}",
    )
    ref = {model: refs[(model, "validation")] for model in models}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Seawall webhooks",
            "version": _version(),
            "description": "Where Alertmanager and Sentry deliver alerts. A 5xx means "
            "'retry later' (only 503, when Redis is unreachable); every refusal is a 4xx "
            "whose text/plain body is one line saying what was wrong, and changes nothing.",
        },
        "paths": {
            ALERTMANAGER_PATH: {"post": _alertmanager_operation(ref[AlertmanagerWebhook])},
            SENTRY_PATH: {"post": _sentry_operation([ref[m] for m in SENTRY_MODELS])},
            CHANGE_PATH: {"post": _change_operation(ref[ChangeReport])},
        },
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "alertmanagerBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "ALERTMANAGER_WEBHOOK_TOKEN, sent by the webhook receiver's "
                    "http_config.authorization.",
                },
                "changeBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "CHANGE_WEBHOOK_TOKEN, sent by CI/CD and deploy tools.",
                },
                "sentrySignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Sentry-Hook-Signature",
                    "description": "Lowercase hex HMAC-SHA256 of the raw body, keyed with "
                    "SENTRY_CLIENT_SECRET (the integration's client secret).",
                },
            },
        },
    }


def _alertmanager_operation(body_ref: dict[str, str]) -> dict[str, Any]:
    return {
        "operationId": "receiveAlertmanager",
        "summary": "An Alertmanager webhook notification (version 4; 3 accepted)",
        "description": "One card per groupKey; a retried delivery is answered `duplicate`.",
        "security": [{"alertmanagerBearer": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body_ref}}},
        "responses": _responses(_accepted(CARD_OUTCOMES, card_required=True)),
    }


def _change_operation(body_ref: dict[str, str]) -> dict[str, Any]:
    return {
        "operationId": "receiveChange",
        "summary": "A deploy or other change to production, from CI/CD",
        "description": "Recorded once (a retry of the same body within 10 minutes is answered "
        '`duplicate`); shown as "Changed recently" on cards of alerts that start within '
        "two hours after it.",
        "security": [{"changeBearer": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body_ref}}},
        "responses": _responses(
            {
                "description": "Recorded, or recognised as a retry.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["ok", "outcome", "change"],
                            "properties": {
                                "ok": {"const": True},
                                "change": {"type": "string"},
                                "outcome": {"enum": ["recorded", "duplicate"]},
                            },
                        }
                    }
                },
            }
        ),
    }


def _sentry_operation(body_refs: list[dict[str, str]]) -> dict[str, Any]:
    handled = sorted(HANDLED)
    return {
        "operationId": "receiveSentry",
        "summary": "A Sentry integration-platform webhook",
        "description": f"Seawall acts on the resources {', '.join(handled)}; any other "
        "resource, or an action it does not act on, is answered 200 `ignored` and stored "
        "nowhere. The body's shape depends on Sentry-Hook-Resource.",
        "security": [{"sentrySignature": []}],
        "parameters": [
            {
                "name": "Sentry-Hook-Resource",
                "in": "header",
                "required": True,
                "description": "What the delivery is about (issue, event_alert, ...).",
                "schema": {
                    "anyOf": [
                        {"type": "string", "enum": handled},
                        {"type": "string", "pattern": RESOURCE_PATTERN.pattern},
                    ]
                },
            },
            {
                "name": "Request-ID",
                "in": "header",
                "required": False,
                "description": "Identifies a delivery across Sentry's retries; without it the "
                "body's SHA-256 does.",
                "schema": {"type": "string"},
            },
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"anyOf": body_refs}}},
        },
        "responses": _responses(_accepted([*CARD_OUTCOMES, "ignored"], card_required=False)),
    }


def _accepted(outcomes: list[str], *, card_required: bool) -> dict[str, Any]:
    return {
        "description": "Stored (or recognised as a repeat, or ignored); the card follows.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["ok", "outcome", *(["card"] if card_required else [])],
                    "properties": {
                        "ok": {"const": True},
                        "card": {"type": "string"},
                        "outcome": {"enum": outcomes},
                    },
                }
            }
        },
    }


def _responses(accepted: dict[str, Any]) -> dict[str, Any]:
    one_line = {"text/plain": {"schema": {"type": "string", "pattern": r"^[^\n]*\n$"}}}
    responses: dict[str, Any] = {"200": accepted}
    for code, text in REFUSALS.items():
        responses[code] = {"description": text, "content": one_line}
    responses["503"] = {
        "description": "Redis is unreachable: nothing was stored; retry later.",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}},
        "content": one_line,
    }
    return responses


def _version() -> str:
    try:
        return version("seawall")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"
