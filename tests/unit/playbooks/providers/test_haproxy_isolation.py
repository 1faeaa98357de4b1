"""Quarantine's own rules, on HAProxy states written by hand: never the last server up."""

from __future__ import annotations

from playbooks.providers.haproxy import ServerState
from playbooks.providers.haproxy_isolation import last_server_refusal, spare_to_bring_in


def server(name: str, op: str = "UP", maint: bool = False, drain: bool = False) -> ServerState:
    return ServerState("web", name, "10.0.0.1", op, maint, drain)


def test_taking_out_the_only_server_up_is_refused_with_what_to_do() -> None:
    states = [server("web-1", maint=True), server("web-2", op="DOWN"), server("web-3")]
    assert last_server_refusal(states, "web", "web-3", None) == (
        "web-3 is the last server up in backend web; bring a spare in first"
    )


def test_a_draining_server_does_not_count_as_up() -> None:
    states = [server("web-1", drain=True), server("web-3")]
    assert last_server_refusal(states, "web", "web-3", None) is not None


def test_another_server_up_or_a_spare_coming_in_allows_it() -> None:
    assert last_server_refusal([server("web-1"), server("web-3")], "web", "web-3", None) is None
    assert last_server_refusal([server("web-3")], "web", "web-3", "spare-1") is None


def test_a_server_that_serves_nothing_can_always_be_quarantined() -> None:
    states = [server("web-1", maint=True), server("web-3", op="DOWN")]
    assert last_server_refusal(states, "web", "web-3", None) is None


def test_the_spare_is_the_first_configured_one_that_exists_unless_one_already_serves() -> None:
    states = [server("web-1"), server("spare-2", maint=True), server("spare-3", maint=True)]
    assert spare_to_bring_in(states, ["spare-1", "spare-2", "spare-3"]) == "spare-2"
    assert spare_to_bring_in([*states, server("spare-1")], ["spare-1", "spare-2"]) is None
    assert spare_to_bring_in(states, []) is None
