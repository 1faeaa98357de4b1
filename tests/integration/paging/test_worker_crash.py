"""The crash drill: a real `seawall worker` SIGKILLed in the middle of an escalation.

Everything runs as in production except time, which is short: the ladder's delays are
seconds. Worker A is killed while it is inside the tick that starts level 2 (Slack's
dnd.info is made to hang there, so the kill lands after the tick began and before it sent
anything). Worker B replaces it; saq notices A's job stopped beating and runs it again. Each
step must arrive exactly once: none lost, none doubled.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.core.config import FileConfig
from bot.emulator import EmulatedUser
from tests.conftest import StackFactory, emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.integration.paging.conftest import ACK_SECRET, ALICE, CAROL, PUBLIC_URL
from tests.integration.paging.test_heartbeats import PingCounter
from tests.support.fake_ntfy import FakeNtfy
from tests.support.stack import SeawallStack
from tests.support.waiting import wait_until
from tests.support.workers import WorkerProcess, worker_env

pytestmark = pytest.mark.integration

LEVEL_S = 4.0  # level 1's ack timeout (level 2's is 2 s)
PUSH_AFTER_S = 2.0  # alice's push, after her Slack DM
# saq notices a dead worker's job once its heartbeat is JOB_HEARTBEAT_S (6 s) old, on a sweep
# (every 2 s), then retries it; with the replacement's start that measured ~13 s here.
RECOVERY_S = 25.0


def config(ntfy: FakeNtfy) -> dict[str, object]:
    return {
        "oncall": {
            "schedules": {
                "primary": {
                    "timezone": "UTC",
                    "rotation": "daily",
                    "handoff": "00:00",
                    "members": [ALICE],
                }
            },
            "people": {
                ALICE: {
                    "notify": [{"via": ntfy.apprise_url("alice", priority="5"), "after": "2s"}]
                },
                CAROL: {
                    "notify": [{"via": ntfy.apprise_url("carol", priority="5"), "after": "0s"}]
                },
            },
            "escalation": [
                {"notify": "schedule:primary", "ack_timeout": "4s"},
                {"notify": [CAROL], "ack_timeout": "2s"},
            ],
        }
    }


@pytest.fixture
def drill(
    make_stack: StackFactory, tmp_path: Path, ntfy: FakeNtfy
) -> Iterator[tuple[SeawallStack, dict[str, str], PingCounter]]:
    users = {
        ALICE: EmulatedUser(name="alice", tz="Europe/Paris"),
        CAROL: EmulatedUser(name="carol", tz="Europe/London"),
    }
    pings = PingCounter()
    pings.server.start()
    settings = {
        "seawall_public_url": PUBLIC_URL,
        "seawall_ack_secret": ACK_SECRET,
        "seawall_heartbeat_url": f"{pings.server.url}/ping/drill",
    }
    stack = make_stack(
        emulator=emulator_config(users=users),
        worker=False,  # the workers below run the jobs
        poster=False,  # ...and post the cards, as in production
        file_config=FileConfig.model_validate(config(ntfy)),
        **settings,
    )
    path = tmp_path / "seawall.yml"
    path.write_text(yaml.safe_dump(config(ntfy)))
    env = worker_env(stack.deps.settings, path)
    env |= {key.upper(): value for key, value in settings.items()}
    try:
        yield stack, env, pings
    finally:
        pings.server.stop()


def test_a_worker_killed_mid_escalation_neither_drops_nor_doubles_a_page(
    drill: tuple[SeawallStack, dict[str, str], PingCounter], ntfy: FakeNtfy, tmp_path: Path
) -> None:
    stack, env, pings = drill
    a = WorkerProcess(tmp_path, env, "a")
    b = WorkerProcess(tmp_path, env, "b")
    a.start()
    try:
        fired = time.monotonic()
        assert stack.post_alertmanager(group_payload("DiskFull")).status_code == 200
        dm = stack.emulator.dm_channel(ALICE)
        wait_until(lambda: stack.emulator.messages(dm), timeout=10, what="alice's DM")
        [push] = wait_until(lambda: ntfy.to("alice"), timeout=10, what="alice's push")
        assert PUSH_AFTER_S - 1.2 <= push.at - fired <= PUSH_AFTER_S + 2.5  # saq: whole seconds
        # Level 2 starts at 4 s: hang its first Slack call, then kill the worker inside it.
        stack.emulator.stall("dnd.info", 3.0)  # outlasts the kill, not the test's teardown
        wait_until(lambda: stack.emulator.stalls_started, timeout=10, what="the level-2 tick")
        assert ntfy.to("carol") == []
        a.kill()
        killed = time.monotonic()
        b.start()
        [carol] = wait_until(lambda: ntfy.to("carol"), timeout=RECOVERY_S + 5, what="carol")
        assert carol.at - killed <= RECOVERY_S  # the next step fired once A's job was recovered
        carol_dm = stack.emulator.dm_channel(CAROL)
        wait_until(lambda: stack.emulator.messages(carol_dm), timeout=10, what="carol's DM")
        alarm = wait_until(
            lambda: [m for m in stack.messages() if m.text.startswith("<!here>")],
            timeout=LEVEL_S + 10,
            what="nobody acknowledged, in the channel",
        )
        time.sleep(1.0)  # room for a duplicate to show up, had one been sent
        assert len(alarm) == 1
        assert len(ntfy.to("alice")) == 1
        assert len(ntfy.to("carol")) == 1
        assert len(stack.emulator.messages(dm)) == 1
        assert len(stack.emulator.messages(carol_dm)) == 1
        assert pings.count >= 1  # each worker pinged the outside dead-man's switch
        assert "started on queue" in b.log()
    finally:
        a.stop()
        b.stop()
