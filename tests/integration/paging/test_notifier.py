"""The Notifier contract, once per backend: a delivery is reported, a failure is returned
(never raised: the ladder must go on)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.models.page import PageNotice
from bot.paging.notifier import AppriseNotifier, Notifier, PageMessage, Sent, SlackDM
from tests.integration.paging.conftest import ALICE, World
from tests.support.fake_ntfy import FakeNtfy
from tests.support.ports import free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ACK_URL = "https://seawall.test/pages/ack/v1.x.y"
NOTICE = PageNotice(
    page_id="p1", recipient=ALICE, state="open", summary="DiskFull", raised_at=datetime.now(UTC)
)
MESSAGE = PageMessage(ALICE, "🚨 DiskFull (critical)", "• DiskFull", ACK_URL, NOTICE)


class NotifierContract:
    """Subclassed per backend: how to build it, a target that works, one that cannot."""

    def notifier(self) -> Notifier:
        raise NotImplementedError

    def good(self) -> str:
        raise NotImplementedError

    def bad(self) -> tuple[str, PageMessage]:
        raise NotImplementedError

    def run(self, work: Coroutine[Any, Any, Sent]) -> Sent:
        return asyncio.run(work)

    def test_a_delivery_is_reported_ok(self) -> None:
        assert self.run(self.notifier().send(self.good(), MESSAGE)).ok

    def test_a_failure_is_returned_not_raised(self) -> None:
        via, message = self.bad()
        sent = self.run(self.notifier().send(via, message))
        assert not sent.ok
        assert sent.detail


class TestAppriseNotifier(NotifierContract):
    @pytest.fixture(autouse=True)
    def _ntfy(self, ntfy: FakeNtfy) -> None:
        self.ntfy = ntfy

    def notifier(self) -> Notifier:
        return AppriseNotifier(timeout_s=5)

    def good(self) -> str:
        return self.ntfy.apprise_url("alice", priority="5")

    def bad(self) -> tuple[str, PageMessage]:
        return f"ntfy://127.0.0.1:{free_port()}/alice", MESSAGE

    def test_apprise_publishes_to_ntfy_with_priority_and_an_acknowledge_action(self) -> None:
        assert self.run(self.notifier().send(self.good(), MESSAGE)).ok
        [publish] = self.ntfy.published
        assert (publish.method, publish.path) == ("POST", "/")
        assert publish.body["topic"] == "alice"
        assert publish.title == "🚨 DiskFull (critical)"
        assert publish.priority == "max"
        assert publish.headers["x-actions"] == (
            f"http, Acknowledge, {ACK_URL}, method=POST, clear=true"
        )

    def test_a_service_without_action_buttons_gets_the_link_in_the_text(self) -> None:
        via = self.good().replace("ntfy://", "json://")  # Apprise's generic JSON webhook
        self.run(self.notifier().send(via, MESSAGE))
        [publish] = self.ntfy.published
        assert f"Acknowledge: {ACK_URL}" in json.dumps(publish.body)

    def test_a_refusing_server_is_a_failure(self) -> None:
        self.ntfy.refuse_next(1)
        sent = self.run(self.notifier().send(self.good(), MESSAGE))
        assert not sent.ok
        assert "refused" in sent.detail


class TestSlackDM(NotifierContract):
    @pytest.fixture(autouse=True)
    def _world(self, world: World) -> None:
        self.world = world

    def run(self, work: Coroutine[Any, Any, Sent]) -> Sent:
        return self.world.stack.server.run_coroutine(work)

    def notifier(self) -> Notifier:
        deps = self.world.stack.deps
        return SlackDM(store=deps.store, slack=deps.slack, clock=deps.clock)

    def good(self) -> str:
        return "slack"

    def bad(self) -> tuple[str, PageMessage]:
        stranger = PageMessage("U0NOBODY", "t", "b", None, NOTICE)
        return "slack", stranger

    def test_the_dm_is_a_card_in_the_persons_dm(self) -> None:
        assert self.run(self.notifier().send("slack", MESSAGE)).ok
        self.run(self.notifier().send("slack", MESSAGE))  # a retried step: still one DM
        dm = self.world.stack.emulator.dm_channel(ALICE)
        [message] = wait_until(lambda: self.world.stack.emulator.messages(dm), what="the DM")
        assert message.text == "Page: DiskFull"
