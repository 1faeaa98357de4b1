"""A pretend HAProxy for `seawall sandbox` only: the three runtime-API commands the quarantine
playbook uses, over TCP on 127.0.0.1, with servers that exist nowhere.

So a newcomer can run `/incident quarantine web-3` in `make demo` and click through the
step-back prompt without installing HAProxy. Tests use a real HAProxy
(tests/support/haproxy.py); nothing but the sandbox starts this one.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

BACKEND = "web"
SERVERS = ("web-1", "web-2", "web-3")
SPARES = ("web-spare-1",)
MAINT, DRAIN = 0x01, 0x08  # srv_admin_state bits, as HAProxy reports them
_SET = re.compile(r"^set server ([\w.-]+)/([\w.-]+) state (ready|drain|maint)$")


@dataclass
class PretendHAProxy:
    # server name -> srv_admin_state; spares start in maintenance, as on a real load balancer
    admin: dict[str, int] = field(
        default_factory=lambda: {**dict.fromkeys(SERVERS, 0), **dict.fromkeys(SPARES, MAINT)}
    )
    server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        """What `playbooks.quarantine.haproxy_socket` takes."""
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"ipv4@127.0.0.1:{port}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # One command per connection, answered, then closed: how HAProxy's socket behaves.
        line = (await reader.readline()).decode(errors="replace").strip()
        writer.write(self.answer(line).encode())
        await writer.drain()
        writer.close()

    def answer(self, line: str) -> str:
        if line == f"show servers state {BACKEND}":
            return self._states()
        if line.startswith("show servers state "):
            return "Can't find backend.\n"
        if line == "show stat":
            rows = [f"{BACKEND},{name},0,0,0" for name in self.admin]
            return "# pxname,svname,qcur,qmax,scur\n" + "\n".join(rows) + "\n"
        found = _SET.match(line)
        if found is None:
            return "Unknown command.\n"
        backend, name, state = found.groups()
        if backend != BACKEND or name not in self.admin:
            return "No such server.\n"
        self.admin[name] = {"ready": 0, "drain": DRAIN, "maint": MAINT}[state]
        return ""

    def _states(self) -> str:
        lines = ["1", "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state"]
        for i, (name, admin) in enumerate(self.admin.items(), start=1):
            lines.append(f"3 {BACKEND} {i} {name} 10.0.0.{i} 2 {admin}")
        return "\n".join(lines) + "\n"
