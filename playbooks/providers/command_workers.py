"""Workers run by anything else (systemd units, docker compose, a script): configured argv
lists, run without a shell, `{replicas}` in an argument replaced by a number.

The argv comes only from SEAWALL_CONFIG; the only value Seawall puts into it is an integer
it computed, so nothing from Slack can reach the command line. Example:
`scale: [docker, compose, up, -d, --no-recreate, --scale, "worker={replicas}"]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex

from bot.core.errors import ExternalServiceError
from playbooks.providers.workers import Capacity, CommandTarget, Snapshot, queue_depth

PLACEHOLDER = "{replicas}"
OUTPUT_TAIL = 300


def argv_for(template: list[str], replicas: int) -> list[str]:
    """The configured argv with `{replicas}` filled in; nothing else is touched."""
    return [arg.replace(PLACEHOLDER, str(int(replicas))) for arg in template]


class CommandWorkers:
    def __init__(self, target: CommandTarget) -> None:
        self.target = target

    async def aclose(self) -> None:
        return None

    async def observe(self, capacity: Capacity | None = None) -> Snapshot:
        del capacity
        depth = await queue_depth(self.target.broker, list(self.target.queues))
        return Snapshot(queue_depth=depth, active=None, reserved=None, running=None)

    async def capacity(self) -> Capacity:
        return Capacity(units=self.target.replicas)

    async def scale(self, capacity: Capacity, units: int) -> str:
        argv = argv_for(self.target.scale, units)
        shown = shlex.join(argv)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as exc:
            raise ExternalServiceError(f"`{shown}` could not start ({exc}); nothing ran") from exc
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), self.target.timeout)
        except TimeoutError as exc:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise ExternalServiceError(
                f"`{shown}` did not finish within {self.target.timeout:.0f} s and was killed; "
                "what it did is unknown: check the workers by hand"
            ) from exc
        tail = out.decode(errors="replace").strip()[-OUTPUT_TAIL:]
        if proc.returncode != 0:
            raise ExternalServiceError(
                f"`{shown}` failed with exit code {proc.returncode}: {tail or 'no output'}"
            )
        return f"ran `{shown}` ({units} of {capacity.units} replicas)"
