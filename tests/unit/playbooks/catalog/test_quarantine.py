"""Quarantine's step texts, filled from its settings when a run starts: what the prompt and
the run card say will happen and how to undo it, provider by provider."""

from __future__ import annotations

from bot.models.run import StepRecord
from playbooks.catalog.quarantine import PLAYBOOK, Params

SETTINGS = {"haproxy_socket": "/run/haproxy.sock", "backend": "web", "spares": ["web-spare-1"]}


def swap_plan(settings: dict[str, object]) -> StepRecord:
    return next(s for s in PLAYBOOK.plan(Params(target="web-3"), settings) if s.name == "swap")


def test_the_rollback_names_the_backend_and_the_spare_from_the_settings() -> None:
    swap = swap_plan(SETTINGS)
    assert swap.rollback is not None
    assert "set server web/web-3 state ready" in swap.rollback
    assert "set server web/web-spare-1 state maint" in swap.rollback
    assert "<" not in swap.rollback
    assert swap.blast_radius is not None
    assert "backend web" in swap.blast_radius
    assert "web-spare-1" in swap.blast_radius


def test_without_spares_the_rollback_only_puts_the_server_back() -> None:
    swap = swap_plan({**SETTINGS, "spares": []})
    assert swap.rollback == "On HAProxy's admin socket: set server web/web-3 state ready"


def test_with_several_spares_the_rollback_says_where_to_read_which_came_in() -> None:
    swap = swap_plan({**SETTINGS, "spares": ["web-spare-1", "web-spare-2"]})
    assert swap.rollback is not None
    assert "web-spare-1, web-spare-2" in swap.rollback
    assert "the run card says which" in swap.rollback


def test_on_kubernetes_the_rollback_names_the_namespace_and_the_label() -> None:
    settings = {"provider": "kubernetes", "namespace": "prod"}
    plan = PLAYBOOK.plan(Params(target="api-7d9f8-x2k4q"), settings)
    relabel = next(s for s in plan if s.name == "relabel")
    assert relabel.rollback is not None
    assert relabel.rollback.startswith("kubectl -n prod label pod api-7d9f8-x2k4q app=<the value")
