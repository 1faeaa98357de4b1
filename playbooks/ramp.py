"""The resume ramp as pure decisions: which capacity each step brings back, whether the
signals allow the next step, and the depth curve as text. No I/O, no clock of its own.

Capacity is counted in *units*: replicas for a Deployment or a command backend, pool slots
(processes) for Celery. A ramp such as `[1, 25%, 50%, 100%]` becomes absolute units for the
capacity the target had when it was paused: with 8 slots, 1, 2, 4, 8; with 2, just 1, 2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import BeforeValidator

_LEVEL = re.compile(r"^\s*(\d+)\s*(%?)\s*$")
DEFAULT_RAMP = ("1", "25%", "50%", "100%")
CURVE_MAX = 24  # depth samples kept for the card's sparkline
BARS = "▁▂▃▄▅▆▇█"


def _level(value: object) -> str:
    """A ramp level as written in SEAWALL_CONFIG: a count (`1`) or a share (`25%`)."""
    match = _LEVEL.match(str(value)) if isinstance(value, int | str) else None
    if match is None or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a ramp level such as 1 (workers) or 25%")
    number, percent = int(match.group(1)), match.group(2)
    if number < 1 or (percent and number > 100):
        raise ValueError(f"{value!r}: a level is at least 1, and a share at most 100%")
    return f"{number}{percent}"


RampLevel = Annotated[str, BeforeValidator(_level)]


def units_for(level: str, capacity: int) -> int:
    """Units a level means for this capacity: never 0, never more than the capacity."""
    number = int(level.rstrip("%"))
    units = math.ceil(capacity * number / 100) if level.endswith("%") else number
    return max(1, min(capacity, units))


def plan_levels(ramp: Sequence[str], capacity: int) -> list[int]:
    """The units of each step, strictly rising and ending at the full capacity (a ramp that
    stops short of 100% gets a last step: resuming means everything, in the end)."""
    levels: list[int] = []
    for level in ramp:
        units = units_for(level, capacity)
        if not levels or units > levels[-1]:
            levels.append(units)
    if not levels or levels[-1] < capacity:
        levels.append(capacity)
    return levels


def describe_level(levels: Sequence[int], index: int) -> str:
    """`step 2/4: 2 of 8 (25%)`; index -1 is paused."""
    capacity = levels[-1] if levels else 0
    if index < 0:
        return f"paused (0 of {capacity})"
    units = levels[index]
    share = round(100 * units / capacity) if capacity else 100
    return f"step {index + 1}/{len(levels)}: {units} of {capacity} ({share}%)"


@dataclass(frozen=True)
class WorkerShape:
    """A worker as the ramp sees it: its name, its full pool size, and whether Seawall may
    resize its pool (a prefork pool that serves only this target's queues)."""

    name: str
    size: int
    resizable: bool


def spread(workers: Sequence[WorkerShape], units: int) -> list[int]:
    """Units per worker, filling one worker at a time in order. A worker whose pool cannot be
    resized comes in whole (the step may then bring a little more than asked)."""
    given: list[int] = []
    remaining = units
    for worker in workers:
        if remaining <= 0:
            given.append(0)
            continue
        share = min(worker.size, remaining) if worker.resizable else worker.size
        given.append(share)
        remaining -= share
    return given


@dataclass(frozen=True)
class Signals:
    """What was seen before the next step. None: not configured or could not be read."""

    depth_then: int | None  # queue depth when the current level was reached
    depth_now: int | None
    firing: Sequence[str] | None = None  # names of alerts matching the configured matchers
    alerts_error: str | None = None  # why the alerts could not be read (configured but down)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str  # a sentence for the card: what was seen


def judge(signals: Signals, *, running: bool) -> Verdict:
    """May the ramp take its next step? Bad: an alert that matches is firing, the alerts
    could not be read, or (once workers run) the queue did not fall since the last step.
    An empty queue is good whatever it was before."""
    if signals.alerts_error is not None:
        return Verdict(False, f"the error-rate alerts could not be read ({signals.alerts_error})")
    if signals.firing:
        names = ", ".join(sorted(set(signals.firing))[:5])
        return Verdict(False, f"{len(signals.firing)} matching alert(s) firing: {names}")
    then, now = signals.depth_then, signals.depth_now
    if running and then is not None and now is not None and now > 0 and now >= then:
        return Verdict(False, f"the queue did not fall: {then:,} then, {now:,} now")
    seen = []
    if then is not None and now is not None and running:
        seen.append(f"queue {then:,} → {now:,}")
    elif now is not None:
        seen.append(f"queue {now:,}")
    if signals.firing is not None:
        seen.append("no matching alert firing")
    return Verdict(True, ", ".join(seen) or "no signal configured")


def sparkline(values: Sequence[int]) -> str:
    """The depth curve as bars, scaled from its lowest to its highest value."""
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return BARS[0 if high == 0 else 3] * len(values)
    scale = (len(BARS) - 1) / (high - low)
    return "".join(BARS[round((v - low) * scale)] for v in values)


def add_sample(curve: str, depth: int | None) -> str:
    """The stored curve (comma-separated depths) with one more sample, the last CURVE_MAX."""
    if depth is None:
        return curve
    values = [*parse_curve(curve), depth][-CURVE_MAX:]
    return ",".join(str(v) for v in values)


def parse_curve(curve: str) -> list[int]:
    return [int(v) for v in curve.split(",") if v.strip().isdigit()]


def curve_text(curve: str) -> str:
    """`depth ▇▅▃▁ 1,204 → 310`, or "" when nothing was sampled."""
    values = parse_curve(curve)
    if not values:
        return ""
    return f"depth {sparkline(values)} {values[0]:,} → {values[-1]:,}"
