"""Prometheus metrics, one registry per process (tests build many apps in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "seawall_http_requests",
            "HTTP requests served",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "seawall_http_request_duration_seconds",
            "Time to answer an HTTP request",
            ["route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=r,
        )
        self.http_bodies_refused = Counter(
            "seawall_http_bodies_refused",
            "Request bodies refused before any route saw them (too_large, too_slow)",
            ["route", "reason"],
            registry=r,
        )
        self.webhook_alerts = Counter(
            "seawall_webhook_alerts_received",
            "Alerts received in accepted webhook deliveries",
            ["source"],
            registry=r,
        )
        self.webhook_deliveries = Counter(
            "seawall_webhook_deliveries",
            "Webhook deliveries by outcome (applied, duplicate, ignored)",
            ["source", "outcome"],
            registry=r,
        )
        self.webhook_rejections = Counter(
            "seawall_webhook_rejections",
            "Webhook requests refused, by reason",
            ["source", "reason"],
            registry=r,
        )
        self.replica_waits = Counter(
            "seawall_redis_replica_waits",
            "Writes Seawall confirmed before acknowledging them, by outcome: replicated, alone "
            "(the primary has no replica to wait for), timeout / no_replica / reconnected / "
            "refused (not confirmed: the sender retries)",
            ["outcome"],
            registry=r,
        )
        self.replica_wait_latency = Histogram(
            "seawall_redis_replica_wait_seconds",
            "Time to confirm a write on a replica (marker, INFO replication and WAIT)",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.cards_posted = Counter("seawall_cards_posted", "Cards posted to Slack", registry=r)
        self.cards_updated = Counter("seawall_cards_updated", "Card updates sent", registry=r)
        self.posts_found = Counter(
            "seawall_posts_found_in_slack",
            "Posts whose answer was never recorded (a timeout, a failover) found in Slack and "
            "adopted instead of being posted twice",
            registry=r,
        )
        self.thread_replies = Counter(
            "seawall_thread_replies_posted", "Thread replies posted", registry=r
        )
        self.slack_api_errors = Counter(
            "seawall_slack_api_errors", "Slack Web API errors", ["method", "error"], registry=r
        )
        self.slack_api_latency = Histogram(
            "seawall_slack_api_duration_seconds",
            "Slack Web API call latency",
            ["method"],
            registry=r,
        )
        self.slack_events = Counter(
            "seawall_slack_events",
            "Events API deliveries by type and outcome (handled, duplicate)",
            ["type", "outcome"],
            registry=r,
        )
        self.slack_requests_rejected = Counter(
            "seawall_slack_requests_rejected",
            "Requests on /slack/events refused (bad signature, stale timestamp)",
            registry=r,
        )
        self.slack_requests_replayed = Counter(
            "seawall_slack_requests_replayed",
            "Signed Slack requests seen before (same timestamp and body): answered, not acted on",
            registry=r,
        )
