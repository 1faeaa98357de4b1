"""A real Alertmanager whose only receiver is Slack (an incoming webhook), for comparisons."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.alertmanager import Alertmanager, WebhookReceiver

RECEIVER = "slack"


class SlackAlertmanager(Alertmanager):
    """prometheus-alertmanager routing every alert to one `slack_configs` receiver.

    Its defaults are the stock Slack receiver (title "[FIRING:n] group", one new message per
    notification, send_resolved on), pointed at the emulator's incoming webhook.
    """

    def __init__(self, workdir: Path, slack_api_url: str, channel: str, **timings: Any) -> None:
        # The parent's webhook receiver is never used: config() below replaces the routing.
        super().__init__(workdir, WebhookReceiver(url=slack_api_url), **timings)
        self.slack_api_url = slack_api_url
        self.channel = channel

    def config(self) -> dict[str, Any]:
        route = {
            "receiver": RECEIVER,
            "group_by": list(self.group_by),
            "group_wait": self.group_wait,
            "group_interval": self.group_interval,
            "repeat_interval": self.repeat_interval,
        }
        slack = {"api_url": self.slack_api_url, "channel": self.channel, "send_resolved": True}
        return {"route": route, "receivers": [{"name": RECEIVER, "slack_configs": [slack]}]}
