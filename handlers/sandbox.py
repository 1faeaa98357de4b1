"""`seawall sandbox`: Seawall, the Slack emulator and an in-memory Redis in one process.

For `make demo` only: nothing here is used by `serve` or `worker`, and the in-memory Redis
(fakeredis) exists nowhere else, so production can never fall back to it by accident.
The emulator's web page lets a newcomer click through everything as Alice, Bob or Carol:
acknowledge, quarantine (against a pretend HAProxy) with its step-back prompt, and a
four-eyes change that Bob or Carol approves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import Callable, Iterator

import httpx
import uvicorn
from fakeredis import FakeAsyncRedis

from bot.core.config import FileConfig, Settings
from bot.core.jobs import InlineJobQueue
from bot.deps import Deps
from bot.emulator import EmulatorConfig, SlackEmulator
from handlers.app import create_app
from handlers.emulator_server import USERS
from handlers.ports import port_in_use_message
from handlers.sandbox_haproxy import BACKEND, SPARES, PretendHAProxy
from handlers.sandbox_samples import alertmanager_samples, resolved_sample
from handlers.terminal import TerminalView
from handlers.worker import announce, bind_inline_jobs, build_poster

TOKEN = "xoxb-sandbox"
SIGNING_SECRET = "sandbox-signing-secret"
WEBHOOK_TOKEN = "sandbox-webhook-token"
CHANNEL = "C0SANDBOX"
Echo = Callable[[str], None]


class _QuietServer(uvicorn.Server):
    """Two servers share one process: the sandbox handles Ctrl-C itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(app: object, port: int) -> _QuietServer:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    return _QuietServer(config)


def sandbox_settings(port: int, emulator_port: int) -> Settings:
    return Settings.model_validate(
        {
            "slack_bot_token": TOKEN,
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": f"http://127.0.0.1:{emulator_port}/api/",
            "seawall_channel": CHANNEL,
            "redis_url": "redis://in-memory-sandbox",
            "port": port,
            "alertmanager_webhook_token": WEBHOOK_TOKEN,
            # A demo should not make a newcomer wait a second per card.
            "seawall_post_interval": 0.2,
            # The in-memory Redis has no replica to wait for.
            "seawall_replica_wait_ms": 0,
        }
    )


def sandbox_config(haproxy_address: str) -> FileConfig:
    """Bob and Carol approve changes; the quarantine playbook drives the pretend HAProxy."""
    return FileConfig.model_validate(
        {
            "approvers": {"users": ["U0BOB", "U0CAROL"]},
            "step_back": {"confirm_delay_seconds": 5},
            "playbooks": {
                "quarantine": {
                    "haproxy_socket": haproxy_address,
                    "backend": BACKEND,
                    "spares": list(SPARES),
                    "drain_seconds": 0,
                    "debug_hint": "ssh {target} (pretend: this is the sandbox)",
                }
            },
        }
    )


async def run_sandbox(port: int, emulator_port: int, exit_after_samples: bool, echo: Echo) -> int:
    busy = port_in_use_message(port, "sandbox", "--port", "PORT") or port_in_use_message(
        emulator_port, "sandbox", "--emulator-port", "EMULATOR_PORT"
    )
    if busy:
        echo(busy)
        return 2
    emulator = SlackEmulator(
        EmulatorConfig(
            bot_token=TOKEN,
            channels={CHANNEL: "alerts"},
            users=USERS,
            post_message_burst=3,
            request_url=f"http://127.0.0.1:{port}/slack/events",
            signing_secret=SIGNING_SECRET,
        )
    )
    view = TerminalView(emulator, echo)
    settings = sandbox_settings(port, emulator_port)
    jobs = InlineJobQueue()
    haproxy = PretendHAProxy()
    await haproxy.start()
    deps = Deps.connect(
        settings,
        redis=FakeAsyncRedis(decode_responses=True),
        jobs=jobs,
        config=sandbox_config(haproxy.address),
    )
    bind_inline_jobs(deps, jobs)  # buttons, playbook steps and timers run in this process
    servers = [_server(emulator.app, emulator_port), _server(create_app(settings, deps), port)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    while not all(s.started for s in servers):
        if any(t.done() for t in tasks):
            echo(f"Could not start: is port {port} or {emulator_port} already in use?")
            await haproxy.stop()
            return 1
        await asyncio.sleep(0.05)
    ephemerals = asyncio.create_task(view.follow_ephemerals())
    poster = asyncio.create_task(build_poster(deps).run(stop))
    beat = asyncio.create_task(announce(deps, "sandbox"))  # this process is its own worker

    echo(
        f"Seawall sandbox: Seawall on http://127.0.0.1:{port}, Slack emulator on "
        f"http://127.0.0.1:{emulator_port} (no Slack account, in-memory Redis). "
        f"Slack signing secret: {SIGNING_SECRET}"
    )
    echo(f"See it in a browser, and click: {browser_url(emulator_port)}")
    echo("Sending sample alerts; cards appear below as the emulator receives them.")
    status = await _send_samples(f"http://127.0.0.1:{port}", deps, emulator)
    if exit_after_samples:
        stop.set()
    else:
        echo(_instructions(port, emulator_port))
        await stop.wait()
    for server in servers:
        server.should_exit = True
    view.show_new_ephemerals()
    beat.cancel()
    ephemerals.cancel()
    await asyncio.gather(poster, beat, ephemerals, *tasks, return_exceptions=True)
    await haproxy.stop()
    return status


def browser_url(emulator_port: int) -> str:
    return f"http://127.0.0.1:{emulator_port}/"


async def _send_samples(base: str, deps: Deps, emulator: SlackEmulator) -> int:
    headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
    now = deps.clock.now()
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        for payload in alertmanager_samples(now):
            (await http.post("/webhooks/alertmanager", json=payload)).raise_for_status()
        if not await _wait_for(lambda: len(emulator.messages(CHANNEL)) >= 3):
            return 1
        (await http.post("/webhooks/alertmanager", json=resolved_sample(now))).raise_for_status()
    resolved = await _wait_for(
        lambda: any(
            m.replies and "RESOLVED" in json.dumps(m.blocks) for m in emulator.messages(CHANNEL)
        )
    )
    return 0 if resolved else 1


async def _wait_for(condition: Callable[[], bool], within_s: float = 20.0) -> bool:
    deadline = asyncio.get_running_loop().time() + within_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


def _instructions(port: int, emulator_port: int) -> str:
    return f"""
Sandbox is running. Open {browser_url(emulator_port)} in a browser: the cards are there, and
"You are" switches between alice, bob and carol. Click Acknowledge on a card; in the message
box type /incident quarantine web-3 (then Confirm in the DM with seawall: a pretend HAProxy
takes web-3 out), or /incident change <what> as alice, then approve it as bob.
Or, from another terminal:
  curl -s -XPOST http://127.0.0.1:{port}/webhooks/alertmanager \\
    -H 'Authorization: Bearer {WEBHOOK_TOKEN}' -H 'Content-Type: application/json' \\
    -d '{{"version":"4","groupKey":"demo","status":"firing","receiver":"demo",
         "commonLabels":{{"alertname":"MyFirstAlert","severity":"critical"}},
         "alerts":[{{"status":"firing","labels":{{"alertname":"MyFirstAlert"}},
                    "annotations":{{"summary":"Hello from curl"}},
                    "startsAt":"2026-01-01T00:00:00Z"}}]}}'
  curl -s http://127.0.0.1:{emulator_port}/_emulator/channels/{CHANNEL}/messages | head -c 600
Press Ctrl-C to stop."""
