"""Work after the ack: started at once, never lost silently, finished or given up on shutdown."""

from __future__ import annotations

import asyncio
import logging

import pytest

from handlers.slack.after_ack import after_ack, finish_pending, within_ack_budget


def test_work_started_after_the_ack_is_finished_before_shutdown() -> None:
    done: list[str] = []

    async def answer() -> None:
        await asyncio.sleep(0.05)
        done.append("answered")

    async def scenario() -> int:
        after_ack(answer(), "an answer")
        assert done == []  # started, not awaited
        return await finish_pending(timeout_s=5)

    assert asyncio.run(scenario()) == 0
    assert done == ["answered"]


def test_work_still_running_at_shutdown_is_given_up_and_counted() -> None:
    async def scenario() -> int:
        after_ack(asyncio.Event().wait(), "an answer that never ends")
        return await finish_pending(timeout_s=0.05)

    assert asyncio.run(scenario()) == 1


def test_a_failure_after_the_ack_is_logged_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise RuntimeError("Slack said no")

    async def scenario() -> None:
        after_ack(fails(), "a failing answer")
        await finish_pending(timeout_s=5)

    with caplog.at_level(logging.ERROR, logger="seawall.after_ack"):
        asyncio.run(scenario())
    [record] = caplog.records
    assert "a failing answer failed" in record.getMessage()
    assert record.exc_info is not None


def test_quick_work_is_done_within_the_budget_slow_work_keeps_running() -> None:
    async def quick() -> str:
        return "answer"

    async def slow() -> str:
        await asyncio.sleep(0.3)
        return "late answer"

    async def scenario() -> tuple[str, bool, str]:
        done = await within_ack_budget(quick(), budget_s=1)
        late = await within_ack_budget(slow(), budget_s=0.01)
        was_done = late.done()
        return done.result(), was_done, await late

    assert asyncio.run(scenario()) == ("answer", False, "late answer")
