"""Which writes must reach a replica before Seawall acknowledges them (bot/core/replication.py):
the policy alone, with a controllable clock. The WAIT itself runs against real Redis in
tests/integration/test_failover.py."""

from __future__ import annotations

from bot.core.replication import GRACE_S, ReplicaWait


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(replicas: int = 1) -> tuple[ReplicaWait, Clock]:
    clock = Clock()
    return ReplicaWait(timeout_ms=500, replicas=replicas, now=clock), clock


def test_a_primary_never_seen_with_a_replica_acknowledges_alone() -> None:
    wait, _ = policy()
    assert wait.required("primary-a", online=0) == 0


def test_a_primary_with_a_replica_online_needs_it() -> None:
    wait, _ = policy()
    assert wait.required("primary-a", online=1) == 1


def test_a_primary_that_just_lost_its_replica_still_needs_one() -> None:
    wait, clock = policy()
    wait.required("primary-a", online=1)
    clock.now += GRACE_S - 1
    assert wait.required("primary-a", online=0) == 1


def test_once_the_replica_has_been_gone_for_the_grace_the_primary_acknowledges_alone() -> None:
    wait, clock = policy()
    wait.required("primary-a", online=1)
    clock.now += GRACE_S + 1
    assert wait.required("primary-a", online=0) == 0


def test_a_newly_promoted_primary_does_not_inherit_the_old_one_s_replica() -> None:
    wait, _ = policy()
    wait.required("old-primary", online=1)
    assert wait.required("new-primary", online=0) == 0


def test_never_more_replicas_than_configured_nor_than_the_primary_has() -> None:
    wait, _ = policy(replicas=2)
    assert wait.required("primary-a", online=1) == 1
    assert wait.required("primary-b", online=3) == 2


def test_a_primary_that_had_two_replicas_and_lost_one_still_needs_two() -> None:
    wait, clock = policy(replicas=2)
    wait.required("primary-a", online=2)
    clock.now += 1
    assert wait.required("primary-a", online=1) == 2


def test_a_zero_timeout_turns_the_wait_off() -> None:
    assert ReplicaWait(timeout_ms=0).enabled is False
    assert ReplicaWait(timeout_ms=500).enabled is True
