"""A stalled logical replication slot (Debezium, pg_recvlogical): see it coming, and decide
drop-or-wait from Slack.

`/playbook slot-lag [db]` looks: no gate, a report card in the channel with each slot's
retained WAL, percent of the cap, consumer lag, time until the cap at the measured rate, the
oldest open transactions, a diagnosis in one sentence and what to do. `drop=<slot>` or
`terminate=<pid>` acts: the step-back prompt with the target's name typed, four-eyes where
the database is marked production, and a second look afterwards. The scheduled watch that
raises a card before the cap is in `watch.py`; settings in `settings.py`; the re-checks
before acting in `checks.py`.
"""

from __future__ import annotations

from playbooks.catalog.slot_lag.settings import (
    NAME,
    Params,
    acting,
    dropping,
    production,
    terminating,
)
from playbooks.catalog.slot_lag.steps import drop, look, terminate, verify
from playbooks.definition import Condition, Playbook, Step

PRODUCTION = Condition(production, "when the database is marked production")

PLAYBOOK = Playbook(
    name=NAME,
    summary="A replication slot holding WAL: look at it, then terminate a blocker or drop it",
    params=Params,
    positional=("db",),
    steps=(
        Step(
            "look",
            "Look at the replication slots, their WAL, and the oldest open transactions",
            look,
            read_only=True,
            idempotent=True,
        ),
        Step(
            "terminate",
            "Terminate session {terminate} on {db}",
            terminate,
            destructive=True,
            high_risk=True,  # type the PID
            idempotent=True,  # a session that has ended is not terminated again
            target="terminate",
            only_if=Condition(terminating, "only with terminate="),
            four_eyes_if=PRODUCTION,
            blast_radius="Session {terminate} is disconnected and its open transaction rolled "
            "back; its client sees a lost connection (a consumer's walsender reconnects)",
            rollback="Nothing to undo: the client reconnects, and re-runs its transaction if "
            "it still needs it",
        ),
        Step(
            "drop",
            "Drop replication slot {drop} on {db} (its consumer is disconnected first)",
            drop,
            destructive=True,
            high_risk=True,  # type the slot's name
            idempotent=True,  # a slot that is gone is not dropped again
            target="drop",
            only_if=Condition(dropping, "only with drop="),
            four_eyes_if=PRODUCTION,
            blast_radius="The WAL {drop} holds is freed at the next checkpoint; its consumer "
            "can no longer resume and must take a new snapshot",
            rollback="None: a dropped slot cannot come back. Re-create it (same name and "
            "plugin) and have its consumer take a new snapshot",
        ),
        Step(
            "verify",
            "Look again after the change",
            verify,
            read_only=True,
            idempotent=True,
            only_if=Condition(acting, "only with drop= or terminate="),
        ),
    ),
)
