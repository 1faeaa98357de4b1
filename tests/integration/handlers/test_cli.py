"""The `seawall` command as a user runs it: check, sandbox, and startup errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.health import NO_PERSISTENCE
from tests.support.ports import free_port
from tests.support.redis_server import RedisServer
from tests.support.stack import SeawallStack

pytestmark = pytest.mark.integration

SEAWALL = [sys.executable, "-m", "handlers.cli"]
ROOT = Path(__file__).resolve().parents[3]


def run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "SEAWALL_", "SENTRY_", "ALERTMANAGER_", "REDIS_"))
    }
    return subprocess.run(
        [*SEAWALL, *args],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def stack_env(stack: SeawallStack, **overrides: str) -> dict[str, str]:
    s = stack.deps.settings
    env = {
        "SLACK_BOT_TOKEN": s.slack_bot_token,
        "SLACK_SIGNING_SECRET": s.slack_signing_secret,
        "SLACK_API_URL": s.slack_api_url,
        "SEAWALL_CHANNEL": s.seawall_channel,
        "REDIS_URL": s.redis_url,
        "ALERTMANAGER_WEBHOOK_TOKEN": s.alertmanager_webhook_token,
    }
    env.update(overrides)
    return env


def test_check_lists_every_missing_setting_and_fails() -> None:
    result = run(["check"], env={"SEAWALL_CHANNEL": "general channel"})
    assert result.returncode == 1
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ALERTMANAGER_WEBHOOK_TOKEN"):
        assert f"{name} is not set" in result.stdout
    assert "SEAWALL_CHANNEL is invalid" in result.stdout


def test_check_passes_with_a_summary_when_all_is_well(stack: SeawallStack) -> None:
    result = run(["check"], env=stack_env(stack))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Seawall is ready" in result.stdout
    assert "WARNING: SEAWALL_CONFIG has no `access:` section" in result.stdout


def test_check_does_not_warn_about_access_once_roles_are_configured(
    stack: SeawallStack, tmp_path: Path
) -> None:
    config = tmp_path / "seawall.yml"
    config.write_text(
        "access:\n  roles: {responders: {users: [U0ALICE]}}\n  allow: {playbook.*: [responders]}\n"
    )
    result = run(["check"], env=stack_env(stack, SEAWALL_CONFIG=str(config)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "access:" not in result.stdout


def test_check_prints_a_warning_for_a_redis_without_persistence(
    stack: SeawallStack, redis_server: RedisServer
) -> None:
    with redis_server.client() as client:  # the test Redis runs with save "" and AOF off
        assert client.config_get("save")["save"] == ""
    result = run(["check"], env=stack_env(stack))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"⚠ {NO_PERSISTENCE}" in result.stdout


def test_check_reports_a_token_slack_rejects_and_an_unreachable_redis(stack: SeawallStack) -> None:
    env = stack_env(
        stack, SLACK_BOT_TOKEN="xoxb-wrong", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"
    )
    result = run(["check"], env=env)
    assert result.returncode == 1
    assert "auth.test: invalid_auth" in result.stdout
    assert "REDIS_URL: Redis is unreachable" in result.stdout


def test_check_names_an_unreachable_slack_in_one_line_without_library_noise(
    stack: SeawallStack,
) -> None:
    env = stack_env(stack, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    result = run(["check"], env=env)
    assert result.returncode == 1
    assert "is unreachable" in result.stdout
    output = result.stdout + result.stderr
    assert "retry handler" not in output.lower()
    assert "Traceback" not in output


def test_check_resolves_a_channel_given_by_name(stack: SeawallStack) -> None:
    result = run(["check"], env=stack_env(stack, SEAWALL_CHANNEL="#alerts"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "default channel #alerts (C0ALERTS)" in result.stdout


def test_check_reports_a_broken_config_file(stack: SeawallStack, tmp_path: Path) -> None:
    config = tmp_path / "seawall.yml"
    config.write_text("routes:\n  - channel: not-an-id\n    colour: red\n")
    result = run(["check"], env=stack_env(stack, SEAWALL_CONFIG=str(config)))
    assert result.returncode == 1
    assert "routes.0.channel" in result.stdout
    assert "routes.0.colour" in result.stdout


def test_serve_refuses_to_start_without_settings() -> None:
    result = run(["serve"], env={})
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in result.stderr


def test_sandbox_shows_sample_cards_without_slack_or_redis() -> None:
    emulator_port = free_port()
    result = run(
        [
            "sandbox",
            "--port",
            str(free_port()),
            "--emulator-port",
            str(emulator_port),
            "--exit-after-samples",
        ],
        env={},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"See it in a browser, and click: http://127.0.0.1:{emulator_port}/" in result.stdout
    assert result.stdout.count("new card") == 3
    assert "RESOLVED · REPLICATIONSLOTLAG" in result.stdout.upper()
    assert "thread reply" in result.stdout


def test_sandbox_prints_card_headers_as_written() -> None:
    result = run(
        [
            "sandbox",
            "--port",
            str(free_port()),
            "--emulator-port",
            str(free_port()),
            "--exit-after-samples",
        ],
        env={},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "🟢 RESOLVED · ReplicationSlotLag" in result.stdout
