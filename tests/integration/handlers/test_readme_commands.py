"""README's commands, run as a newcomer would type them: the Alertmanager config passes amtool,
"Running it for real" (`pip install .`, `seawall check`, `seawall run`) works from an installed
copy, and "Run the real stack against the emulator" (seawall emulator, seawall run, seawall
send) puts a card in front of them. Real child processes, owned and stopped by PID."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
SEAWALL = [sys.executable, "-m", "handlers.cli"]


def readme_block(after: str, language: str) -> str:
    text = README.read_text(encoding="utf-8").split(after, 1)[1]
    return text.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def clean_env(**extra: str) -> dict[str, str]:
    prefixes = ("SLACK_", "SEAWALL_", "SENTRY_", "ALERTMANAGER_", "REDIS_", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.update(extra)
    return env


class Child:
    """A `seawall ...` child process with its output in a file; stopped by PID."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str],
        log: Path,
        *,
        seawall: list[str] = SEAWALL,
        cwd: Path = ROOT,
    ) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            [*seawall, *args], env=env, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output())
            if found:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} in the output of {self.log.name}:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._out.close()


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in reversed(started):
        child.stop()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """README's `pip install .`, into a venv of its own: the `seawall` it puts on PATH must
    work from anywhere, so packaging mistakes (a package or data file left out of the wheel,
    a broken entry point) fail here. The dependencies come from the test venv through a .pth
    file, so only Seawall itself is built (pip fetches the build backend, hatchling, from PyPI
    like any user's pip would)."""
    home = tmp_path_factory.mktemp("installed")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    site = next((venv / "lib").glob("python3*/site-packages"))
    deps = next(p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir())
    (site / "test-venv-deps.pth").write_text(f"{deps}\n")
    result = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-deps", "--quiet", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return venv / "bin" / "seawall"


def test_the_readme_alertmanager_config_passes_amtool(tmp_path: Path) -> None:
    amtool = shutil.which("amtool")
    assert amtool, "amtool comes with prometheus-alertmanager (scripts/install-system-deps.sh)"
    config = tmp_path / "alertmanager.yml"
    config.write_text(readme_block("A complete `alertmanager.yml`", "yaml"))
    result = subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_real_stack_runs_against_the_emulator_as_the_readme_says(
    redis_server: RedisServer,
    redis_url: str,
    tmp_path: Path,
    children: list[Child],
    installed: Path,
) -> None:
    emulator_port, seawall_port = free_port(), free_port()
    emulator = Child(
        ["emulator", "--port", str(emulator_port)], clean_env(), tmp_path / "emulator.log"
    )
    children.append(emulator)
    emulator.wait_for("Ctrl-C stops")
    # The environment exactly as the emulator printed it (Socket Mode's line included).
    printed = dict(re.findall(r"export (\w+)=(\S+)", emulator.output()))
    env = clean_env(
        **printed,
        ALERTMANAGER_WEBHOOK_TOKEN="any-long-random-string",
        REDIS_URL=redis_url,
        PORT=str(seawall_port),
    )
    # "Running it for real", verbatim: the installed `seawall`, run outside the source tree.
    check = subprocess.run(
        [str(installed), "check"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "✗" not in check.stdout
    run = Child(["run"], env, tmp_path / "run.log", seawall=[str(installed)], cwd=tmp_path)
    children.append(run)
    run.wait_for("Uvicorn running")

    def send(*args: str) -> str:
        result = subprocess.run(
            [*SEAWALL, "send", *args],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    assert send("alert", "firing", "HighErrorRate").startswith("HTTP 200")
    emulator.wait_for(r"#alerts · new card[\s\S]*FIRING · critical · HighErrorRate")
    acknowledge_in_the_browser_view(emulator, emulator_port)
    assert "declared a *SEV2* incident" in send("slash", "/incident declare DB down")
    emulator.wait_for(r"#inc-\d{8}-db-down · new card")
    run.wait_for(r"job incident_pin done in [\d.]+ s \(key incident_pin:")
    log = run.output()
    assert "will be unused" not in log  # Bolt's token warning, silenced
    assert "Job<" not in log  # saq's whole-job dumps stay out of INFO
    assert "retry handler found" not in log


def acknowledge_in_the_browser_view(emulator: Child, port: int) -> None:
    """The page the emulator printed shows the card, and its Acknowledge button (a form
    post, as a browser without JavaScript sends it) reaches Seawall: `seawall run` took the
    printed SLACK_APP_TOKEN, so over Socket Mode."""
    base = f"http://127.0.0.1:{port}"
    emulator.wait_for(re.escape(f"See it in a browser, and click: {base}/"))
    assert "HighErrorRate" in httpx.get(f"{base}/?as=U0ALICE").text
    [card] = httpx.get(f"{base}/_emulator/channels/C0ALERTS/messages").json()
    place = next(
        f"{i}.{j}"
        for i, block in enumerate(card["blocks"])
        for j, element in enumerate(block.get("elements", []))
        if element.get("action_id") == "card.ack"
    )
    form = {"as": "U0ALICE", "where": f"m:C0ALERTS:{card['ts']}", "el": place}
    assert httpx.post(f"{base}/_web/act", data=form).status_code == 303
    emulator.wait_for(r"#alerts · card updated[\s\S]*Acknowledged by @alice")


def test_the_sandbox_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*SEAWALL, "sandbox", "--port", str(port), "--emulator-port", str(free_port())],
            env=clean_env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 2
    assert len(lines) == 1, lines
    assert f"Port {port} is already in use" in lines[0]
    assert f"--port {port + 1}" in lines[0]
    assert f"make demo PORT={port + 1}" in lines[0]
