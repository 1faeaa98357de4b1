"""A real Alertmanager child process on a free port, routing everything to one webhook."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.ports import HOST
from tests.support.processes import ChildProcess

START_TIMEOUT = 15.0
WEBHOOK_RECEIVER = "webhook"


@dataclass
class WebhookReceiver:
    """Where Alertmanager sends notifications (one `webhook_configs` entry)."""

    url: str
    bearer_token: str | None = None
    send_resolved: bool = True
    max_alerts: int = 0


class AlertmanagerError(RuntimeError):
    """Alertmanager did not start, rejected its config, or refused an API call."""


class _PortTaken(AlertmanagerError):
    pass


class Alertmanager(ChildProcess):
    """prometheus-alertmanager as a child process: no clustering, short timings for tests.

    start() writes the config, checks it with amtool, and waits for /-/ready (15 s); silences
    and the notification log live in the workdir, so they persist across restart().

    Resolving needs a firing notification first: an alert resolved before its group was ever
    notified produces no notification at all (Alertmanager has nothing to resolve).
    """

    name = "Alertmanager"
    start_error = AlertmanagerError
    port_taken_error = _PortTaken
    port_taken_marker = "address already in use"
    start_timeout = START_TIMEOUT
    poll_interval = 0.05
    ready_when = "{url}/-/ready answered 200"
    not_ready = "was not ready at {url}/-/ready"

    def __init__(
        self,
        workdir: Path,
        receiver: WebhookReceiver,
        *,
        group_wait: str = "1s",
        group_interval: str = "1s",
        repeat_interval: str = "1h",
        group_by: Sequence[str] = ("alertname",),
        port: int | None = None,
        executable: str = "prometheus-alertmanager",
        extra_receivers_yaml: str | None = None,
        extra_routes_yaml: str | None = None,
        log_level: str = "info",
    ) -> None:
        super().__init__(workdir, port, executable, "alertmanager.log")
        self.receiver = receiver
        self.group_wait = group_wait
        self.group_interval = group_interval
        self.repeat_interval = repeat_interval
        self.group_by = tuple(group_by)
        self.extra_receivers_yaml = extra_receivers_yaml
        self.extra_routes_yaml = extra_routes_yaml
        self.log_level = log_level
        self.config_path = self.workdir / "alertmanager.yml"
        self._fired: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def config(self) -> dict[str, Any]:
        """The alertmanager.yml this instance runs with, as a dict."""
        webhook: dict[str, Any] = {
            "url": self.receiver.url,
            "send_resolved": self.receiver.send_resolved,
            "max_alerts": self.receiver.max_alerts,
        }
        if self.receiver.bearer_token is not None:
            webhook["http_config"] = {
                "authorization": {"type": "Bearer", "credentials": self.receiver.bearer_token}
            }
        route: dict[str, Any] = {
            "receiver": WEBHOOK_RECEIVER,
            "group_by": list(self.group_by),
            "group_wait": self.group_wait,
            "group_interval": self.group_interval,
            "repeat_interval": self.repeat_interval,
        }
        if self.extra_routes_yaml:
            route["routes"] = _yaml_list(self.extra_routes_yaml, "extra_routes_yaml")
        receivers = [{"name": WEBHOOK_RECEIVER, "webhook_configs": [webhook]}]
        if self.extra_receivers_yaml:
            receivers += _yaml_list(self.extra_receivers_yaml, "extra_receivers_yaml")
        return {"route": route, "receivers": receivers}

    # --- API v2 ---------------------------------------------------------------------------

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """POST /api/v2/alerts; raises AlertmanagerError on anything but 200."""
        self._request("POST", "/api/v2/alerts", json=alerts)

    def fire(
        self,
        labels: dict[str, str],
        annotations: dict[str, str] | None = None,
        generator_url: str = "http://127.0.0.1/graph",
    ) -> None:
        """Post one firing alert starting now (endsAt left to Alertmanager's resolve_timeout)."""
        alert = _alert(labels, annotations or {}, generator_url, startsAt=_now())
        self._fired[_key(labels)] = alert
        self.post_alerts([alert])

    def resolve(
        self,
        labels: dict[str, str],
        annotations: dict[str, str] | None = None,
        generator_url: str | None = None,
    ) -> None:
        """Re-post the alert with endsAt = now, as Prometheus does.

        Keeps the startsAt, annotations and generatorURL of the matching fire() unless given:
        Alertmanager replaces them with whatever the resolving post carries. The resolved
        notification follows within one group_interval.
        """
        fired = self._fired.pop(_key(labels), None) or {}
        alert = _alert(
            labels,
            annotations if annotations is not None else fired.get("annotations", {}),
            generator_url or fired.get("generatorURL", "http://127.0.0.1/graph"),
            endsAt=_now(),
        )
        if "startsAt" in fired:
            alert["startsAt"] = fired["startsAt"]
        self.post_alerts([alert])

    def alerts(self) -> list[dict[str, Any]]:
        """GET /api/v2/alerts"""
        result: list[dict[str, Any]] = self._request("GET", "/api/v2/alerts").json()
        return result

    def silences(self) -> list[dict[str, Any]]:
        """GET /api/v2/silences"""
        result: list[dict[str, Any]] = self._request("GET", "/api/v2/silences").json()
        return result

    # --- internals ------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        # trust_env=False: a proxy from the environment must never see 127.0.0.1 traffic.
        with httpx.Client(base_url=self.url, timeout=5, trust_env=False) as client:
            response = client.request(method, path, **kwargs)
        if response.status_code != 200:
            raise AlertmanagerError(
                f"{method} {path} answered {response.status_code}: {response.text[:500]}"
            )
        return response

    def _prepare(self) -> None:
        self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        self._check_config()

    def _check_config(self) -> None:
        amtool = shutil.which("amtool")
        if amtool is None:
            return
        result = subprocess.run(
            [amtool, "check-config", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if result.returncode != 0:
            raise AlertmanagerError(
                f"amtool check-config rejected {self.config_path}:\n"
                f"{result.stdout}{result.stderr}\n--- config ---\n{self.config_path.read_text()}"
            )

    def _command(self, executable: str) -> list[str]:
        return [
            executable,
            f"--config.file={self.config_path}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address={HOST}:{self.port}",
            f"--web.external-url={self.url}",
            "--cluster.listen-address=",  # empty: no gossip, no second port
            f"--log.level={self.log_level}",
        ]

    def _wait_until_ready(self, proc: subprocess.Popen[bytes]) -> None:
        super()._wait_until_ready(proc)
        if proc.poll() is not None:  # something else answered on our port and ours died
            raise _PortTaken(f"Alertmanager (pid {proc.pid}) exited; port {self.port} is taken")

    def _is_ready(self, proc: subprocess.Popen[bytes]) -> bool:
        try:
            response = httpx.get(f"{self.url}/-/ready", timeout=1, trust_env=False)
        except httpx.TransportError:
            return False
        return response.status_code == 200


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _alert(
    labels: dict[str, str], annotations: dict[str, str], generator_url: str, **times: str
) -> dict[str, Any]:
    return {
        "labels": labels,
        "annotations": annotations,
        "generatorURL": generator_url,
        **times,
    }


def _yaml_list(text: str, name: str) -> list[Any]:
    parsed = yaml.safe_load(text)
    if not isinstance(parsed, list):
        raise ValueError(f"{name} must be a YAML list, got {type(parsed).__name__}")
    return parsed
