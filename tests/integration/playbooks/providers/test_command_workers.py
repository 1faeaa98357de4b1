"""The command backend: configured argv lists, run without a shell, `{replicas}` filled in."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from bot.core.errors import ExternalServiceError
from playbooks.providers.command_workers import CommandWorkers, argv_for
from playbooks.providers.workers import CommandTarget
from tests.integration.playbooks.providers.worker_pool_contract import (
    MakePool,
    WorkerPoolContract,
    on,
)

pytestmark = pytest.mark.integration

SCRIPT = [sys.executable, "-m", "tests.fixtures.scale_workers"]


def target(state: Path, *extra: str, broker: str | None = None, **more: object) -> CommandTarget:
    return CommandTarget.model_validate(
        {
            "backend": "command",
            "scale": [*SCRIPT, str(state), "{replicas}", *extra],
            "replicas": 3,
            "broker": broker,
            "queues": ["jobs"] if broker else [],
            **more,
        }
    )


class TestCommandWorkers(WorkerPoolContract):
    FULL = 3

    @pytest.fixture
    def state(self, tmp_path: Path) -> Path:
        path = tmp_path / "replicas"
        path.write_text("3")
        return path

    @pytest.fixture
    def make_pool(self, state: Path, redis_url: str) -> MakePool:
        return lambda: CommandWorkers(target(state, broker=redis_url))

    @pytest.fixture
    def taking_work(self, state: Path) -> Callable[[], int]:
        return lambda: int(state.read_text())

    @pytest.fixture
    def backlog(self, redis_url: str) -> Callable[[int], None]:
        def leave(n: int) -> None:
            with redis.Redis.from_url(redis_url) as client:
                client.lpush("jobs", *[f"job-{i}" for i in range(n)])

        return leave

    @pytest.fixture
    def unreachable(self, tmp_path: Path) -> MakePool:
        missing = CommandTarget(backend="command", scale=[str(tmp_path / "no-such-tool")],
                                replicas=2)  # fmt: skip
        return lambda: CommandWorkers(missing)

    def test_the_argv_reaches_the_program_as_configured_never_through_a_shell(
        self, state: Path
    ) -> None:
        odd = "x; touch pwned $(id) `id` {replicas}"
        said = on(CommandWorkers(target(state, odd)), 2)
        assert "ran `" in said
        assert int(state.read_text()) == 2
        assert not (Path.cwd() / "pwned").exists()
        assert argv_for(["a", "--n={replicas}", odd], 2) == [
            "a",
            "--n=2",
            odd.replace("{replicas}", "2"),
        ]

    def test_a_failing_command_says_its_exit_code_and_output(self, tmp_path: Path) -> None:
        broken = CommandTarget(
            backend="command", scale=[*SCRIPT, str(tmp_path / "s"), "not-{replicas}"], replicas=2
        )
        with pytest.raises(ExternalServiceError, match=r"exit code 2: not a number"):
            on(CommandWorkers(broken), 1)

    def test_a_command_that_hangs_is_killed_at_its_timeout(self, state: Path) -> None:
        slow = target(state, "slow=1:30", timeout=0.5)
        with pytest.raises(ExternalServiceError, match=r"did not finish within 0 s and was killed"):
            on(CommandWorkers(slow), 1)
