"""FakeSentryApi: a contract-level fake of Sentry's REST API, for the one call Seawall makes.

Seawall's Resolve / Ignore buttons call `PUT /api/0/organizations/{org}/issues/{id}/`. This
fake implements that call with Sentry's documented rules (Bearer token, known organisation,
a JSON body whose `status` and `statusDetails` keys Sentry accepts, `{"detail": ...}` on
errors) and nothing else. It records every request, refused ones included, and can be told
to answer the next calls with an error, so tests see what Seawall sent and how it copes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.support.fake_http import FakeHttpServer

# From Sentry's "Update an Issue" reference.
STATUSES = frozenset({"resolved", "resolvedInNextRelease", "unresolved", "ignored"})
STATUS_DETAILS = frozenset(
    {
        "inRelease",
        "inNextRelease",
        "inCommit",
        "ignoreDuration",
        "ignoreCount",
        "ignoreWindow",
        "ignoreUserCount",
        "ignoreUserWindow",
    }
)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # the parsed JSON body, or the raw text when it was not JSON


class FakeSentryApi(FakeHttpServer):
    """Sentry's issue-update endpoint on a real port; `url` is what SENTRY_URL should be."""

    def __init__(self, org: str = "acme", token: str = "test-sentry-api-token") -> None:
        self.org = org
        self.token = token
        self.issues: dict[str, dict[str, Any]] = {}  # issue id -> last status Sentry holds
        # Called (in a worker thread) after an update is accepted and before it is answered:
        # Sentry may send its own webhook about the change before Seawall hears back.
        self.before_answer: Callable[[str, dict[str, Any]], None] | None = None
        self._requests: list[RecordedRequest] = []
        self._failures: list[tuple[int, str]] = []
        super().__init__(
            routes=[
                Route(
                    "/api/0/organizations/{org}/issues/{issue_id}/",
                    self._update_issue,
                    methods=["PUT"],
                )
            ]
        )

    # --- control and inspection (from the test thread) --------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def fail_next(self, status: int = 500, detail: str = "Internal Error", times: int = 1) -> None:
        """Answer the next `times` requests with `status` and Sentry's `{"detail": ...}` body."""
        with self._lock:
            self._failures.extend([(status, detail)] * times)

    # --- the endpoint -------------------------------------------------------------------------

    async def _update_issue(self, request: Request) -> Response:
        raw = (await request.body()).decode("utf-8", "replace")
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw
        with self._lock:
            self._requests.append(
                RecordedRequest(request.method, request.url.path, dict(request.headers), body)
            )
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return JSONResponse({"detail": failure[1]}, status_code=failure[0])

        auth = request.headers.get("authorization", "")
        if not auth:
            return _detail(401, "Authentication credentials were not provided.")
        if auth != f"Bearer {self.token}":
            return _detail(401, "Invalid token")
        org, issue_id = request.path_params["org"], request.path_params["issue_id"]
        if org != self.org or not issue_id.isdigit():
            return _detail(404, "The requested resource does not exist")
        problem = _body_problem(body)
        if problem is not None:
            return JSONResponse(problem, status_code=400)

        state = {"status": body["status"], "statusDetails": body.get("statusDetails", {})}
        with self._lock:
            self.issues[issue_id] = state
        if self.before_answer is not None:
            await asyncio.to_thread(self.before_answer, issue_id, state)
        return JSONResponse({"id": issue_id, **state})


def _detail(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _body_problem(body: Any) -> dict[str, list[str]] | None:
    """Sentry's 400 answer for a body it would refuse, or None when it would accept it."""
    if not isinstance(body, dict):
        return {"non_field_errors": ["Invalid data. Expected a dictionary."]}
    status = body.get("status")
    if status not in STATUSES:
        return {"status": [f'"{status}" is not a valid choice.']}
    details = body.get("statusDetails", {})
    if not isinstance(details, dict) or set(details) - STATUS_DETAILS:
        return {"statusDetails": ["Unknown or malformed status details."]}
    return None
