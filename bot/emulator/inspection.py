"""/_emulator/* endpoints: inspect and steer the emulator from another process.

Benchmarks and `seawall sandbox` run the emulator out of process; these routes give them
what tests get from the Python object (recorded calls, messages, faults, reset) and let a
remote SlackSender obtain trigger_ids and response_urls the emulator will honour.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.emulator.models import EmulatedMessage, EphemeralMessage, RecordedCall


class Inspectable(Protocol):
    """What these routes need of the emulator (app.py's SlackEmulator), named here so that
    this module does not import app.py, which imports it."""

    @property
    def calls(self) -> list[RecordedCall]: ...
    @property
    def ephemerals(self) -> list[EphemeralMessage]: ...
    @property
    def views(self) -> list[dict[str, Any]]: ...
    def snapshot_channel(self, channel_id: str) -> list[dict[str, Any]]: ...
    def message(self, channel_id: str, ts: str) -> EmulatedMessage | None: ...
    def slack_message(self, channel_id: str, ts: str) -> dict[str, Any] | None: ...
    def inject_fault(
        self,
        method: str | None,
        status: int,
        count: int,
        retry_after: int = 1,
        error: str | None = None,
    ) -> None: ...
    def reset(self) -> None: ...
    def issue_trigger_id(self) -> str: ...
    def issue_response_url(
        self, base_url: str, channel: str, user: str, message_ts: str | None = None
    ) -> str: ...


class FaultRequest(BaseModel):
    method: str | None = None
    status: int
    count: int = 1
    retry_after: int = 1
    error: str | None = None


class ResponseUrlRequest(BaseModel):
    channel_id: str
    user_id: str
    message_ts: str | None = None


def _bad_request(exc: ValidationError | ValueError) -> JSONResponse:
    return JSONResponse({"ok": False, "error": "invalid_request", "detail": str(exc)}, 400)


def inspection_routes(emu: Inspectable) -> list[Route]:
    """The routes, bound to one emulator instance."""

    async def calls(request: Request) -> Response:
        return JSONResponse([c.as_dict() for c in emu.calls])

    async def messages(request: Request) -> Response:
        return JSONResponse(emu.snapshot_channel(str(request.path_params["channel"])))

    async def message(request: Request) -> Response:
        channel, ts = str(request.path_params["channel"]), str(request.path_params["ts"])
        # ?format=slack gives the API shape, which a remote SlackSender copies into payloads.
        if request.query_params.get("format") == "slack":
            found: object = emu.slack_message(channel, ts)
        else:
            stored = emu.message(channel, ts)
            found = asdict(stored) if stored is not None else None
        if found is None:
            return JSONResponse({"ok": False, "error": "message_not_found"}, 404)
        return JSONResponse(found)

    async def ephemerals(request: Request) -> Response:
        return JSONResponse([asdict(e) for e in emu.ephemerals])

    async def views(request: Request) -> Response:
        return JSONResponse(emu.views)

    async def faults(request: Request) -> Response:
        try:
            fault = FaultRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            return _bad_request(exc)
        emu.inject_fault(fault.method, fault.status, fault.count, fault.retry_after, fault.error)
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> Response:
        emu.reset()
        return JSONResponse({"ok": True})

    async def trigger_ids(request: Request) -> Response:
        return JSONResponse({"ok": True, "trigger_id": emu.issue_trigger_id()})

    async def response_urls(request: Request) -> Response:
        try:
            req = ResponseUrlRequest.model_validate_json(await request.body())
        except (ValidationError, json.JSONDecodeError) as exc:
            return _bad_request(exc)
        base = str(request.base_url)
        url = emu.issue_response_url(base, req.channel_id, req.user_id, req.message_ts)
        return JSONResponse({"ok": True, "response_url": url})

    return [
        Route("/_emulator/calls", calls, methods=["GET"]),
        Route("/_emulator/channels/{channel}/messages", messages, methods=["GET"]),
        Route("/_emulator/channels/{channel}/messages/{ts}", message, methods=["GET"]),
        Route("/_emulator/ephemerals", ephemerals, methods=["GET"]),
        Route("/_emulator/views", views, methods=["GET"]),
        Route("/_emulator/faults", faults, methods=["POST"]),
        Route("/_emulator/reset", reset, methods=["POST"]),
        Route("/_emulator/trigger_ids", trigger_ids, methods=["POST"]),
        Route("/_emulator/response_urls", response_urls, methods=["POST"]),
    ]
