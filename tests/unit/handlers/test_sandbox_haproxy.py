"""The sandbox's pretend HAProxy speaks the dialect the quarantine playbook's HAProxy client
reads (the same client the integration tests point at a real HAProxy)."""

from __future__ import annotations

import asyncio

from handlers.sandbox_haproxy import BACKEND, PretendHAProxy
from playbooks.providers.haproxy import HAProxy


async def _drive() -> tuple[list[tuple[str, str]], int, list[tuple[str, str]]]:
    pretend = PretendHAProxy()
    await pretend.start()
    try:
        client = HAProxy(pretend.address)
        before = [(s.name, s.label) for s in await client.servers(BACKEND)]
        await client.set_state(BACKEND, "web-spare-1", "ready")
        await client.set_state(BACKEND, "web-3", "maint")
        sessions = await client.sessions(BACKEND, "web-3")
        after = [(s.name, s.label) for s in await client.servers(BACKEND)]
        return before, sessions, after
    finally:
        await pretend.stop()


def test_the_quarantine_client_reads_and_changes_the_pretend_servers() -> None:
    before, sessions, after = asyncio.run(_drive())
    assert before == [("web-1", "UP"), ("web-2", "UP"), ("web-3", "UP"), ("web-spare-1", "MAINT")]
    assert sessions == 0
    assert after == [("web-1", "UP"), ("web-2", "UP"), ("web-3", "MAINT"), ("web-spare-1", "UP")]


def test_an_unknown_server_is_refused_like_haproxy_does() -> None:
    assert PretendHAProxy().answer(f"set server {BACKEND}/web-9 state maint") != ""
    assert PretendHAProxy().answer("show servers state nope").startswith("Can't find")
