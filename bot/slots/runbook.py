"""The recovery checklist, posted in the thread of a slot card the first time it fires (and
of a look's report when something needs attention), so it is one tap away on a phone and
needs no wiki. docs/playbooks.md ("slot-lag") has the same checklist for reading ahead."""

from __future__ import annotations

from bot.cards.common import escape


def runbook(database: str, slot: str | None = None) -> str:
    """The checklist, with the commands filled in for this database (and slot)."""
    db = escape(database)
    name = escape(slot) if slot else "&lt;slot&gt;"
    look = f"`/playbook slot-lag {db}`"
    drop = f"`/playbook slot-lag {db} drop={name}`"
    kill = f"`/playbook slot-lag {db} terminate=&lt;pid&gt;`"  # escaped: <pid> is a link
    return "\n".join(
        [
            "📖 *Recovery checklist: a replication slot holding WAL*",
            f"*1. Which case?* {look} shows, per slot: _retained_ (WAL the primary keeps for "
            "it, from restart_lsn) and _lag_ (what its consumer has not confirmed, from "
            "confirmed_flush_lsn), and the oldest open transactions.",
            "• Inactive slot, lag ≈ retained: the consumer is down. Restart it (Debezium "
            "connector, pg_recvlogical) and watch the lag fall.",
            "• Active slot, lag growing: the consumer is connected but too slow. Check its "
            f"errors and throughput; terminating its walsender makes it reconnect: {kill}.",
            "• Lag small, retained large: a long transaction (often _idle in transaction_) "
            "holds restart_lsn back. Terminate it (its transaction rolls back) or have its "
            f"owner end it: {kill}. Dropping the slot does not help here.",
            "*2. Drop or wait?* Wait while the time until the cap is longer than the consumer "
            "needs to come back. Drop when the slot will be lost before the consumer is back, "
            f"or the disk fills first (no cap): {drop}. WAL is freed at the next checkpoint; "
            "the consumer must then re-snapshot.",
            "*3. After lost* (wal_status lost): the slot can never be used again. Drop it, "
            "re-create it with the same name and plugin, and have the consumer take a new "
            "initial snapshot (Debezium: restart the connector with a snapshot). Changes made "
            "meanwhile reach it only through that snapshot.",
            "*4. Afterwards:* if max_slot_wal_keep_size is -1, set a cap below pg_wal's free "
            "space, so a stalled consumer costs a re-snapshot instead of the primary.",
        ]
    )
