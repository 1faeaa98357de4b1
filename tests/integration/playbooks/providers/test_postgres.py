"""The Postgres slot provider against a real cluster (tests/support/postgres.py), with the
roles docs/playbooks.md asks for: pg_monitor to look, REPLICATION and pg_signal_backend to
act. One base class says what any backend must do; each backend subclasses it."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.core.errors import ExternalServiceError
from playbooks.providers.postgres import PsycopgSlots, SlotAdmin, SlotSource
from tests.support.ports import free_port
from tests.support.postgres import ADMIN, MB, MONITOR, SlotLab
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


class SlotProviderContract:
    """What looking and acting on replication slots must do, whatever the backend."""

    def source(self, lab: SlotLab) -> SlotSource:
        raise NotImplementedError

    def admin(self, lab: SlotLab) -> SlotAdmin:
        raise NotImplementedError

    def test_a_snapshot_reports_each_slot_with_its_retained_wal_and_the_cap(
        self, slot_lab: SlotLab
    ) -> None:
        slot_lab.slot("orders_cdc")
        slot_lab.wal(20)
        snap = asyncio.run(self.source(slot_lab).snapshot("orders"))
        assert snap.database == "orders"
        assert snap.cap_bytes == 64 * MB
        [row] = [r for r in snap.slots if r.name == "orders_cdc"]
        assert (row.slot_type, row.plugin, row.active, row.wal_status) == (
            "logical",
            "test_decoding",
            False,
            "reserved",
        )
        assert row.retained is not None
        assert 20 * MB <= row.retained < 24 * MB
        assert row.lag is not None
        assert abs(row.lag - row.retained) < 1024  # nobody consumed anything
        assert row.restart_lsn is not None
        assert snap.wal_lsn - row.restart_lsn == row.retained
        assert snap.wal_dir_bytes is not None  # pg_monitor may list pg_wal

    def test_a_session_idle_in_a_transaction_that_wrote_is_a_holder(
        self, slot_lab: SlotLab
    ) -> None:
        pid = slot_lab.idle_in_transaction()
        snap = asyncio.run(self.source(slot_lab).snapshot("orders"))
        [holder] = [h for h in snap.holders if h.pid == pid]
        assert holder.state == "idle in transaction"
        assert holder.has_xid
        assert holder.user == "app"
        assert holder.query == "INSERT INTO t VALUES (1)"  # pg_monitor sees other roles' text
        assert holder.xact_start is not None

    def test_terminate_ends_a_session_and_says_when_there_was_none(self, slot_lab: SlotLab) -> None:
        pid = slot_lab.idle_in_transaction()
        backend = asyncio.run(self.source(slot_lab).backend(pid))
        assert backend is not None
        assert backend.backend_type == "client backend"
        assert asyncio.run(self.admin(slot_lab).terminate(pid)) is True
        assert not slot_lab.alive(pid)
        assert asyncio.run(self.admin(slot_lab).terminate(pid)) is False
        assert asyncio.run(self.source(slot_lab).backend(pid)) is None

    def test_drop_disconnects_the_consumer_first_and_a_second_drop_finds_nothing(
        self, slot_lab: SlotLab
    ) -> None:
        slot_lab.slot("orders_cdc")
        consumer = slot_lab.consumer("orders_cdc")
        active = wait_until(lambda: (slot_lab.row("orders_cdc") or ())[2], what="the consumer")
        assert active
        walsender = slot_lab.row("orders_cdc")[3]  # type: ignore[index]
        dropped = asyncio.run(self.admin(slot_lab).drop_slot("orders_cdc"))
        assert dropped.dropped
        assert dropped.terminated == (walsender,)
        assert slot_lab.row("orders_cdc") is None
        assert consumer.wait(5) != 0  # its connection was terminated
        again = asyncio.run(self.admin(slot_lab).drop_slot("orders_cdc"))
        assert not again.dropped
        assert asyncio.run(self.source(slot_lab).slot("orders_cdc")) is None


class TestPsycopgSlots(SlotProviderContract):
    def source(self, lab: SlotLab) -> SlotSource:
        return PsycopgSlots(lab.server.dsn(lab.db, MONITOR), label="orders", read_only=True)

    def admin(self, lab: SlotLab) -> SlotAdmin:
        return PsycopgSlots(lab.server.dsn(lab.db, ADMIN), label="orders", read_only=False)

    def test_a_slot_name_is_a_bound_parameter_never_sql(self, slot_lab: SlotLab) -> None:
        slot_lab.slot("orders_cdc")
        hostile = "x' OR '1'='1"
        assert asyncio.run(self.source(slot_lab).slot(hostile)) is None
        assert not asyncio.run(self.admin(slot_lab).drop_slot(hostile)).dropped
        assert slot_lab.row("orders_cdc") is not None

    def test_an_unreachable_server_is_one_sentence_without_the_password(self) -> None:
        dsn = f"host=127.0.0.1 port={free_port()} user=u password=s3cret-pw dbname=x"
        started = time.monotonic()
        with pytest.raises(ExternalServiceError) as caught:
            asyncio.run(PsycopgSlots(dsn, label="orders", read_only=True).snapshot("orders"))
        assert str(caught.value).startswith("Postgres orders did not answer:")
        assert "s3cret-pw" not in str(caught.value)
        assert time.monotonic() - started < 6

    def test_an_admin_role_without_pg_signal_backend_is_refused_in_words(
        self, slot_lab: SlotLab
    ) -> None:
        slot_lab.server.execute("CREATE ROLE weak_admin LOGIN REPLICATION")
        try:
            pid = slot_lab.idle_in_transaction()
            weak = PsycopgSlots(
                slot_lab.server.dsn(slot_lab.db, "weak_admin"), label="orders", read_only=False
            )
            with pytest.raises(ExternalServiceError, match="may not do this"):
                asyncio.run(weak.terminate(pid))
            assert slot_lab.alive(pid)
        finally:
            slot_lab.server.execute("DROP ROLE weak_admin")
