"""`seawall emulator`: the Slack emulator on its own, for running the real stack without Slack.

It prints the settings to give `seawall serve` / `seawall run` (SLACK_API_URL, the tokens,
the signing secret `seawall send` signs with) and then shows in the terminal everything a
Slack user would see: cards, replies, DMs and ephemerals. The same is a Slack-like web page
at its `/`, where clicks, commands and reactions go to Seawall as Slack would send them: over
Socket Mode once `seawall serve` connects with SLACK_APP_TOKEN, else to `--app-url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterator

import uvicorn

from bot.emulator import EmulatedUser, EmulatorConfig, SlackEmulator
from handlers.ports import port_in_use_message
from handlers.terminal import TerminalView

BOT_TOKEN = "xoxb-emulator"
APP_TOKEN = "xapp-1-A0SEAWALL-emulator"
SIGNING_SECRET = "emulator-signing-secret"
APP_URL = "http://127.0.0.1:3000/slack/events"  # `seawall serve` on its default PORT
CHANNELS = {"C0ALERTS": "alerts", "C0DATABASE": "database", "C0INCIDENTS": "incidents"}
USERS = {
    "U0ALICE": EmulatedUser(name="alice", tz="Europe/Paris"),
    "U0BOB": EmulatedUser(name="bob", tz="America/New_York"),
    "U0CAROL": EmulatedUser(name="carol", tz="Asia/Tokyo"),
}
Echo = Callable[[str], None]


def emulator_config(app_url: str = APP_URL) -> EmulatorConfig:
    return EmulatorConfig(
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        channels=CHANNELS,
        users=USERS,
        request_url=app_url,
        signing_secret=SIGNING_SECRET,
    )


def settings_to_use(port: int, app_url: str = APP_URL) -> str:
    return f"""Slack emulator on http://127.0.0.1:{port} (no Slack account needed). Give Seawall:
  export SLACK_API_URL=http://127.0.0.1:{port}/api/
  export SLACK_BOT_TOKEN={BOT_TOKEN}
  export SLACK_SIGNING_SECRET={SIGNING_SECRET}
  export SEAWALL_CHANNEL=C0ALERTS
  export SLACK_APP_TOKEN={APP_TOKEN}   # optional: Slack requests over Socket Mode too
Then, with the same variables set, send what Slack, Alertmanager or Sentry would:
  seawall send slash "/incident declare DB down"
  seawall send alert firing HighErrorRate
People here: {", ".join(f"{u.name} ({uid})" for uid, u in USERS.items())}.
Channels: {", ".join(f"#{name} ({cid})" for cid, name in CHANNELS.items())}.
See it in a browser, and click: http://127.0.0.1:{port}/ (clicks go to Seawall over Socket
Mode when it is connected, else to {app_url}). Ctrl-C stops."""


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the command handles Ctrl-C itself
        yield


async def run_emulator(port: int, echo: Echo, app_url: str = APP_URL) -> int:
    busy = port_in_use_message(port, "emulator", "--port")
    if busy:
        echo(busy)
        return 2
    emulator = SlackEmulator(emulator_config(app_url))
    view = TerminalView(emulator, echo)
    server = _Server(uvicorn.Config(emulator.app, host="127.0.0.1", port=port, log_level="warning"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            echo(f"The emulator could not start on port {port}.")
            return 1
        await asyncio.sleep(0.05)
    echo(settings_to_use(port, app_url))
    ephemerals = asyncio.create_task(view.follow_ephemerals())
    await stop.wait()
    server.should_exit = True
    ephemerals.cancel()
    await asyncio.gather(serving, ephemerals, return_exceptions=True)
    return 0
