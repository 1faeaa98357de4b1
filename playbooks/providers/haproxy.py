"""HAProxy's runtime API (admin socket): read server states, drain, maintain, enable.

One command per connection, answer read to EOF (protocols.md §6). The socket path or
`ipv4@host:port` comes from SEAWALL_CONFIG; commands are built only from validated names.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from bot.core.errors import ExternalServiceError

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,63}$")
TIMEOUT_S = 5.0

# srv_op_state values from HAProxy's `show servers state` (SRV_ST_*).
OP_STATES = {0: "DOWN", 1: "STARTING", 2: "UP", 3: "STOPPING"}
# srv_admin_state is a bit field: 0x01 forced maintenance, 0x08 forced drain (SRV_ADMF_*).
ADMIN_MAINT = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
ADMIN_DRAIN = 0x08 | 0x10


@dataclass(frozen=True)
class ServerState:
    backend: str
    name: str
    address: str
    op_state: str
    in_maintenance: bool
    draining: bool

    @property
    def label(self) -> str:
        if self.in_maintenance:
            return "MAINT"
        return "DRAIN" if self.draining else self.op_state


class HAProxy:
    def __init__(self, address: str) -> None:
        self.address = address

    async def command(self, line: str) -> str:
        if "\n" in line or ";" in line:
            raise ValueError("one command at a time")
        try:
            if self.address.startswith("ipv4@"):
                host, _, port = self.address.removeprefix("ipv4@").rpartition(":")
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, int(port)), TIMEOUT_S
                )
            else:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_unix_connection(self.address), TIMEOUT_S
                )
            writer.write(line.encode() + b"\n")
            await writer.drain()
            answer = await asyncio.wait_for(reader.read(), TIMEOUT_S)
            writer.close()
        except (OSError, TimeoutError) as exc:
            raise ExternalServiceError(
                f"HAProxy's admin socket {self.address} did not answer ({exc})"
            ) from exc
        return answer.decode(errors="replace")

    async def servers(self, backend: str) -> list[ServerState]:
        _check(backend)
        text = await self.command(f"show servers state {backend}")
        states = []
        for row in text.splitlines():
            cols = row.split()
            if len(cols) < 7 or not cols[0].isdigit():
                continue  # version line, header, blank
            states.append(
                ServerState(
                    backend=cols[1],
                    name=cols[3],
                    address=cols[4],
                    op_state=OP_STATES.get(int(cols[5]), cols[5]),
                    in_maintenance=bool(int(cols[6]) & ADMIN_MAINT),
                    draining=bool(int(cols[6]) & ADMIN_DRAIN),
                )
            )
        if not states and "No such backend" in text:
            raise ExternalServiceError(f"HAProxy has no backend {backend!r}")
        return states

    async def server(self, backend: str, name: str) -> ServerState:
        _check(name)
        for state in await self.servers(backend):
            if state.name == name:
                return state
        raise ExternalServiceError(f"backend {backend} has no server {name!r}")

    async def set_state(self, backend: str, name: str, state: str) -> None:
        """`ready`, `drain` or `maint`; setting the current state again is harmless."""
        _check(backend)
        _check(name)
        if state not in ("ready", "drain", "maint"):
            raise ValueError(state)
        answer = (await self.command(f"set server {backend}/{name} state {state}")).strip()
        if answer:  # HAProxy answers nothing on success
            raise ExternalServiceError(f"HAProxy refused `set server … state {state}`: {answer}")

    async def sessions(self, backend: str, name: str) -> int:
        """Current sessions on the server (`show stat` scur)."""
        text = await self.command("show stat")
        header: list[str] = []
        for row in text.splitlines():
            if row.startswith("# "):
                header = row[2:].split(",")
                continue
            cols = row.split(",")
            if header and len(cols) > 4 and cols[0] == backend and cols[1] == name:
                return int(cols[header.index("scur")] or 0)
        return 0


def _check(name: str) -> None:
    if not NAME.fullmatch(name):
        raise ValueError(f"not a valid HAProxy name: {name!r}")
