"""Turn a Web API request into (params, token) the way Slack reads it.

slack_sdk sends arguments three ways: a JSON body (methods with blocks), a form body
(`WebClient` for the others) and a query string (`AsyncWebClient`, which hands `params`
to aiohttp even for POST). Slack merges all three, so the emulator does too.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

# Fields Slack documents as "a JSON-based array/object, presented as a URL-encoded string".
JSON_STRING_FIELDS = ("blocks", "attachments", "metadata", "view")


@dataclass(frozen=True)
class ParsedRequest:
    params: dict[str, Any]
    token: str | None
    error: str | None = None


def _decode_json_fields(params: dict[str, Any]) -> None:
    for name in JSON_STRING_FIELDS:
        value = params.get(name)
        if isinstance(value, str) and value:
            # Undecodable values stay strings: the method answers invalid_blocks_format.
            with contextlib.suppress(json.JSONDecodeError):
                params[name] = json.loads(value)


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def parse_request(
    *, query: list[tuple[str, str]], body: bytes, content_type: str, authorization: str | None
) -> ParsedRequest:
    """Merge query, form and JSON arguments; the Authorization header wins over a token field."""
    params: dict[str, Any] = dict(query)
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" and body.strip():
        try:
            decoded = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return ParsedRequest({}, _bearer(authorization), error="invalid_json")
        if not isinstance(decoded, dict):
            return ParsedRequest({}, _bearer(authorization), error="invalid_json")
        # Slack ignores a token inside a JSON body: it must come in the header.
        decoded.pop("token", None)
        params.update(decoded)
    elif body:
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    field_token = params.pop("token", None)
    token = _bearer(authorization)
    if token is None and isinstance(field_token, str) and field_token:
        token = field_token
    _decode_json_fields(params)
    return ParsedRequest(params, token)
