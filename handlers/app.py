"""create_app(settings, deps): every route and listener of the web process on one screen."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

import sentry_sdk
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.core.config import Settings
from bot.deps import Deps
from handlers import features, openapi, pages, wiring
from handlers.http_edge import BodyLimits
from handlers.readiness import ReadinessProbe
from handlers.slack import after_ack
from handlers.slack.bolt import build_bolt
from handlers.slack.socket import SocketMode
from handlers.webhooks import alertmanager, change, sentry

log = logging.getLogger("seawall.app")


def create_app(settings: Settings, deps: Deps | None = None) -> Starlette:
    deps = deps or Deps.connect(settings)
    wiring.install(deps)
    if settings.sentry_dsn:
        sentry_sdk.init(dsn=settings.sentry_dsn, traces_sample_rate=0.0, send_default_pii=False)

    bolt = build_bolt(deps)
    features.register(bolt, deps)
    slack = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        response: Response = await slack.handle(request)
        if response.status_code == 401:
            deps.metrics.slack_requests_rejected.inc()
        return response

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def metrics(request: Request) -> Response:
        return Response(generate_latest(deps.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    socket_mode = (
        SocketMode(bolt, settings.slack_app_token, deps.slack) if settings.slack_app_token else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if socket_mode is not None:
            socket_mode.start()
        yield
        if socket_mode is not None:
            await socket_mode.stop()
        await after_ack.finish_pending(timeout_s=5.0)
        await deps.aclose()

    app = Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/webhooks/alertmanager", alertmanager.endpoint(deps), methods=["POST"]),
            Route("/webhooks/sentry", sentry.endpoint(deps), methods=["POST"]),
            Route("/webhooks/change", change.endpoint(deps), methods=["POST"]),
            Route("/pages/ack/{token}", pages.ack_endpoint(deps), methods=["POST"]),
            Route("/pages/ack/{token}", pages.confirm_endpoint(deps), methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", ReadinessProbe(deps).respond, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
            Route("/openapi.json", openapi.endpoint(), methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    routes = [route.path for route in app.routes if isinstance(route, Route)]
    # Every body is capped and timed before any route (Bolt included) reads it.
    app.add_middleware(
        BodyLimits,
        metrics=deps.metrics,
        routes=routes,
        timeout_s=settings.seawall_body_timeout,
    )
    app.add_middleware(RequestMetrics, deps=deps, routes=routes)  # outermost: counts refusals too
    app.state.deps = deps
    return app


class RequestMetrics:
    """Counts and times every request by route template (never by raw path: bounded labels)."""

    def __init__(self, app: ASGIApp, deps: Deps, routes: list[str]) -> None:
        self.app = app
        self.metrics = deps.metrics
        # A request answered before routing (a refused body) is labelled by its path when that
        # is a route's: still a bounded set of labels.
        self.routes = frozenset(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict) -> None:  # type: ignore[type-arg]
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)  # type: ignore[arg-type]
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None)
            if path is None:
                path = scope["path"] if scope["path"] in self.routes else "unmatched"
            self.metrics.http_requests.labels(path, scope["method"], str(status["code"])).inc()
            self.metrics.http_latency.labels(path).observe(time.perf_counter() - started)
