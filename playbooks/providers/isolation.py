"""Taking one faulty server out of service while it keeps running, so someone can debug it:
one Protocol, one backend per module (HAProxy runtime API, Kubernetes pod relabelling),
picked by `playbooks.quarantine.provider` (playbooks/catalog/quarantine.py).

Every backend refuses to take out the last one serving (`check`, and again in `isolate`,
against the state of that moment), notes in `facts` what its `restore` needs, and may be run
twice: a worker that dies mid-step is replaced and the step runs again.
"""

from __future__ import annotations

from typing import Protocol


class Isolator(Protocol):
    async def check(self, target: str) -> str:
        """Read only: where the target stands; raises SeawallError when it may not go."""
        ...

    async def isolate(self, target: str, facts: dict[str, str]) -> str:
        """Out of service, still running. Checks the last-one rule again first."""
        ...

    async def restore(self, target: str, facts: dict[str, str]) -> str:
        """Back in service, as before `isolate` (the Roll back button)."""
        ...

    async def report(self, target: str) -> str:
        """How to reach it for debugging, and how to bring it back or get rid of it."""
        ...

    async def aclose(self) -> None: ...
