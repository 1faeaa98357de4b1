"""Fault drills: Slack failing for a while, and Redis killed in the middle of an alert storm.

Redis here runs as production runs it (DESIGN.md): with an append-only file, so a SIGKILL
and restart keeps what was written. fsync is `always` rather than production's `everysec`
so that the drill is exact; the session redis-server of the other suites keeps nothing
across a kill, which is a different failure (data loss) from the one drilled here.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.alerts.rules import card_id_for_group
from bot.emulator import EmulatedMessage
from bot.models.alert import AlertGroup
from bot.store import REDIS_ERRORS
from tests.conftest import StackFactory, emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.alertmanager import Alertmanager, WebhookReceiver
from tests.support.redis_server import RedisServer
from tests.support.stack import ALERTMANAGER_TOKEN, CHANNEL, SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

LATER = "2026-11-23T11:00:00Z"
COUNTS = re.compile(r"\*(\d+) firing\* · (\d+) resolved")


class DurableRedis(RedisServer):
    """redis-server with an append-only file, fsync'd on every write."""

    def _command(self, executable: str) -> list[str]:
        command = super()._command(executable)
        command[command.index("--appendonly") + 1] = "yes"
        return [*command, "--appendfsync", "always"]


@pytest.fixture(scope="module")
def durable_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DurableRedis]:
    with DurableRedis(tmp_path_factory.mktemp("durable-redis")) as server:
        yield server


@pytest.fixture
def redis_url(durable_redis: DurableRedis) -> str:
    """This module's stacks use the durable Redis (overrides the session one)."""
    if not durable_redis.is_running():
        durable_redis.restart()
    durable_redis.flushall()
    return durable_redis.url


@pytest.fixture
def stack(make_stack: StackFactory) -> SeawallStack:
    # Slack's own pacing is not what is drilled: only injected faults should fail calls.
    return make_stack(
        emulator=emulator_config(
            post_message_rate_per_channel=50.0,
            post_message_burst=20,
            method_limits_per_minute={"chat.update": 5000},
        ),
        seawall_post_interval=0.01,
    )


def header(message: EmulatedMessage) -> str:
    return str(message.blocks[0]["text"]["text"])


def counts(message: EmulatedMessage) -> str:
    """What the card's context line counts, as "N firing, M resolved"."""
    found = COUNTS.search(json.dumps(message.blocks, ensure_ascii=False))
    return f"{found[1]} firing, {found[2]} resolved" if found else ""


def failed_calls(stack: SeawallStack, status: int) -> int:
    return sum(1 for call in stack.emulator.calls if call.http_status == status)


def outbox_empty(stack: SeawallStack) -> bool:
    return stack.server.run_coroutine(stack.deps.store.outbox_size(CHANNEL)) == 0


# --- Slack answers 500, then 429, while alerts keep changing --------------------------------


def test_a_stretch_of_slack_500s_then_429s_loses_no_card_and_each_shows_its_latest_state(
    stack: SeawallStack,
) -> None:
    names = [f"Flaky{i:02d}" for i in range(12)]
    for name in names:
        assert stack.post_alertmanager(group_payload(name, alerts=1)).status_code == 200
    wait_until(lambda: len(stack.messages()) >= 4, what="the first cards in Slack")

    # Slack fails every call for a while; meanwhile every group grows to two alerts.
    stack.emulator.inject_fault(None, 500, count=8)
    for name in names:
        assert stack.post_alertmanager(group_payload(name, alerts=2)).status_code == 200
    wait_until(lambda: failed_calls(stack, 500) == 8, what="Slack's 500s to be met")

    # Then it rate-limits for a while; half the groups resolve, the other half grow again.
    stack.emulator.inject_fault(None, 429, count=4, retry_after=1)
    for i, name in enumerate(names):
        payload = (
            group_payload(name, status="resolved", alerts=0, resolved=2)
            if i % 2
            else group_payload(name, alerts=3)
        )
        assert stack.post_alertmanager(payload).status_code == 200
    wait_until(lambda: failed_calls(stack, 429) >= 4, what="Slack's 429s to be met")

    # After the faults, a quarter of the groups fire again (a new occurrence of alert 0).
    for name in names[1::4]:
        payload = group_payload(name, alerts=1, starts_at=LATER)
        assert stack.post_alertmanager(payload).status_code == 200

    expected: dict[str, tuple[str, str, list[str]]] = {}
    for i, name in enumerate(names):
        if i % 2 == 0:
            expected[name] = ("🔴 FIRING", "3 firing, 0 resolved", [])
        elif i % 4 == 3:
            expected[name] = ("🟢 RESOLVED", "0 firing, 2 resolved", ["🟢 Resolved at"])
        else:
            replies = ["🟢 Resolved at", "🔥 Firing again"]
            expected[name] = ("🔴 FIRING", "1 firing, 1 resolved", replies)

    def shown() -> dict[str, tuple[str, str, list[str]]]:
        found = {}
        for message in stack.messages():
            name = header(message).rsplit("· ", 1)[-1]
            replies = [r.text.split(":", 1)[0].split(" <!date")[0] for r in message.replies]
            found[name] = (header(message).split(" · ", 1)[0], counts(message), replies)
        return found

    wait_until(
        lambda: outbox_empty(stack) and shown() == expected,
        timeout=40,
        interval=0.2,
        what="every card in its latest state",
    )
    messages = stack.messages()
    assert len(messages) == len(names)  # one message per group: none lost, none doubled
    assert len({header(m) for m in messages}) == len(names)


# --- Redis dies right after Slack accepted a post --------------------------------------------


def kill_redis_after(stack: SeawallStack, redis_server: RedisServer, event: str) -> threading.Event:
    """SIGKILL Redis the first time Slack stores a message of this kind, before Seawall hears
    Slack's answer: the poster then holds a posted message it cannot record yet."""
    killed = threading.Event()

    def on_message(channel: str, message: EmulatedMessage, kind: str) -> None:
        if kind == event and not killed.is_set():
            redis_server.kill()
            killed.set()

    stack.emulator.on_message = on_message
    return killed


def settled(stack: SeawallStack) -> bool:
    try:
        return outbox_empty(stack)
    except REDIS_ERRORS:
        return False


def test_a_card_posted_just_before_redis_dies_is_not_posted_again(
    stack: SeawallStack, durable_redis: DurableRedis
) -> None:
    killed = kill_redis_after(stack, durable_redis, "posted")
    assert stack.post_alertmanager(group_payload("Blip")).status_code == 200
    wait_until(killed.is_set, what="Redis killed after the post")
    durable_redis.restart()

    wait_until(lambda: settled(stack), what="the outbox drained after the restart")
    [card] = stack.messages()
    assert header(card).startswith("🔴 FIRING")
    assert len(stack.emulator.calls_to("chat.postMessage")) == 1


def test_a_thread_reply_posted_just_before_redis_dies_is_not_posted_again(
    stack: SeawallStack, durable_redis: DurableRedis
) -> None:
    assert stack.post_alertmanager(group_payload("Blip")).status_code == 200
    wait_until(lambda: stack.messages() and settled(stack), what="the firing card")
    killed = kill_redis_after(stack, durable_redis, "reply")
    resolved = group_payload("Blip", status="resolved", alerts=0, resolved=1)
    assert stack.post_alertmanager(resolved).status_code == 200
    wait_until(killed.is_set, what="Redis killed after the reply")
    durable_redis.restart()

    wait_until(lambda: settled(stack), what="the outbox drained after the restart")
    [card] = stack.messages()
    assert header(card).startswith("🟢 RESOLVED")
    assert [r.text.split(" <!date")[0] for r in card.replies] == ["🟢 Resolved at"]


# --- Redis killed and restarted in the middle of a storm ------------------------------------


def am_alert(name: str, instance: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "labels": {"alertname": name, "severity": "critical", "instance": f"web-{instance}"},
        "annotations": {"summary": f"{name} on web-{instance}"},
        "generatorURL": "http://127.0.0.1/graph",
        "startsAt": now,
    }


def am_groups(am: Alertmanager) -> dict[str, set[str]]:
    """Alertmanager's own view: alertname -> fingerprints of its alerts."""
    with httpx.Client(timeout=5, trust_env=False) as client:
        groups = client.get(f"{am.url}/api/v2/alerts/groups").raise_for_status().json()
    view: dict[str, set[str]] = {}
    for group in groups:
        view.setdefault(group["labels"]["alertname"], set()).update(
            a["fingerprint"] for a in group["alerts"]
        )
    return view


def stored_fingerprints(stack: SeawallStack, alertname: str) -> set[str]:
    # The groupKey Alertmanager sends for the root route grouped by alertname.
    card_id = card_id_for_group(f'{{}}:{{alertname="{alertname}"}}')
    card = stack.server.run_coroutine(stack.deps.store.get_card(card_id))
    if card is None or not isinstance(card.subject, AlertGroup):
        return set()
    return set(card.subject.alerts)


def every_alert_on_a_card(stack: SeawallStack, am: Alertmanager) -> bool:
    view = am_groups(am)
    if any(stored_fingerprints(stack, name) != fps for name, fps in view.items()):
        return False
    cards = {header(m).rsplit("· ", 1)[-1]: m for m in stack.messages()}
    return outbox_empty(stack) and all(
        name in cards and counts(cards[name]) == f"{len(fps)} firing, 0 resolved"
        for name, fps in view.items()
    )


def unavailable_answers(stack: SeawallStack) -> float:
    metrics = stack.http.get(f"{stack.url}/metrics").text
    prefix = 'seawall_webhook_rejections_total{reason="unavailable",source="alertmanager"}'
    line = next((x for x in metrics.splitlines() if x.startswith(prefix)), None)
    return float(line.rsplit(" ", 1)[1]) if line else 0.0


def test_redis_killed_mid_storm_answers_503_and_every_alert_still_reaches_a_card(
    stack: SeawallStack, durable_redis: DurableRedis, tmp_path: Path
) -> None:
    receiver = WebhookReceiver(
        url=f"{stack.url}/webhooks/alertmanager", bearer_token=ALERTMANAGER_TOKEN
    )
    with Alertmanager(tmp_path / "am", receiver) as am:
        first = [f"Storm{i:02d}" for i in range(10)]
        am.post_alerts([am_alert(name, i) for name in first for i in range(3)])
        wait_until(lambda: len(stack.messages()) >= 3, timeout=15, what="the storm's first cards")

        durable_redis.kill()
        late = [f"Late{i:02d}" for i in range(5)]
        am.post_alerts([am_alert(name, i) for name in first for i in range(3, 6)])
        am.post_alerts([am_alert(name, i) for name in late for i in range(3)])
        wait_until(lambda: unavailable_answers(stack) >= 3, timeout=15, what="503s to Alertmanager")
        durable_redis.restart()

        wait_until(
            lambda: every_alert_on_a_card(stack, am),
            timeout=15,
            interval=0.25,
            what="every alert Alertmanager holds on a card",
        )
        assert set(am_groups(am)) == {*first, *late}
        # One message per group (besides a storm card, if the groups came fast enough for one).
        groups = [m for m in stack.messages() if "STORM" not in header(m)]
        assert len(groups) == len(first) + len(late)
