"""The emulated workspace the emulator tests share: ids, fake clocks, config."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.emulator import EmulatedUser, EmulatorConfig

TOKEN = "xoxb-emulator"
ALICE = "U0ALICE"
BOB = "U0BOB"
ALERTS = "C0ALERTS"
DATABASE = "C0DATABASE"


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Clocks:
    monotonic: FakeClock = field(default_factory=FakeClock)
    # 2026-01-15 12:00 UTC: winter, so Europe/Paris is UTC+1.
    wall: FakeClock = field(default_factory=lambda: FakeClock(1_768_478_400.0))


def make_config(clocks: Clocks, **overrides: Any) -> EmulatorConfig:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "channels": {ALERTS: "alerts", DATABASE: "database"},
        "users": {
            ALICE: EmulatedUser(name="alice", tz="Europe/Paris", real_name="Alice Martin"),
            BOB: EmulatedUser(name="bob", tz="America/New_York"),
        },
        "clock": clocks.monotonic,
        "wall_clock": clocks.wall,
    }
    values.update(overrides)
    return EmulatorConfig(**values)
