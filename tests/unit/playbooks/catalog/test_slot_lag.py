"""slot-lag's settings, parameters and plan, and its re-checks before acting, pure: what
the config may say, what a command may say, which gates each step gets, and when the
target is no longer the one the look saw."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import ConfigError, SeawallError
from bot.models.slots import Backend, SlotRow
from playbooks.catalog.slot_lag import PLAYBOOK
from playbooks.catalog.slot_lag.checks import (
    after_words,
    backend_facts,
    drop_refusal,
    slot_facts,
    terminate_refusal,
)
from playbooks.catalog.slot_lag.settings import (
    Database,
    admin_dsn,
    database_of,
    settings_from,
)
from playbooks.params import ParamError, help_text, parse_params
from tests.fixtures.slots import MB, T0, report, row

CONTRACT: dict[str, Any] = {  # DESIGN.md's example, verbatim
    "databases": {
        "orders": {"dsn": "postgresql://monitor@db1/orders", "admin_dsn_env": "ORDERS_ADMIN_DSN"}
    },
    "watch": {"interval": "30s", "warn_percent": 50, "critical_percent": 80},
}


def with_db(**db: Any) -> dict[str, Any]:
    return {**CONTRACT, "databases": {"orders": {**CONTRACT["databases"]["orders"], **db}}}


# --- settings ---------------------------------------------------------------------------


def test_the_contract_example_parses_with_its_defaults() -> None:
    settings = settings_from(CONTRACT)
    orders = settings.databases["orders"]
    assert (orders.admin_dsn_env, orders.production) == ("ORDERS_ADMIN_DSN", False)
    assert settings.watch.interval == 30
    assert settings.watch.thresholds.warn_percent == 50


@pytest.mark.parametrize(("text", "seconds"), [("1s", 1), ("5m", 300), ("1h", 3600), (20, 20)])
def test_intervals_are_read_as_durations(text: Any, seconds: float) -> None:
    settings = settings_from({**CONTRACT, "watch": {"interval": text}})
    assert settings.watch.interval == seconds


@pytest.mark.parametrize(
    ("watch", "says"),
    [
        ({"interval": "45s"}, "must divide a minute"),
        ({"interval": "soon"}, "watch.interval"),
        ({"warn_percent": 80, "critical_percent": 80}, "warn_percent must be below"),
        ({"every": "30s"}, "watch.every"),
    ],
)
def test_a_wrong_watch_setting_is_named(watch: dict[str, Any], says: str) -> None:
    with pytest.raises(SeawallError, match=says):
        settings_from({**CONTRACT, "watch": watch})


def test_a_typo_in_a_database_is_an_error_not_a_silent_default() -> None:
    with pytest.raises(ConfigError, match=r"playbooks\.slot-lag\.databases\.orders\.prodution"):
        settings_from(with_db(prodution=True))


def test_several_databases_need_a_name_and_an_unknown_one_is_refused() -> None:
    settings = settings_from(
        {"databases": {"orders": {"dsn": "x"}, "billing": {"dsn": "y"}}, "watch": {}}
    )
    with pytest.raises(SeawallError, match=r"Several databases are configured \(billing, orders\)"):
        database_of(settings, None)
    with pytest.raises(SeawallError, match="There is no database `crm`"):
        database_of(settings, "crm")
    assert database_of(settings_from(CONTRACT), None)[0] == "orders"


def test_acting_without_an_admin_dsn_says_what_to_set_and_that_nothing_changed() -> None:
    db = Database(dsn="x", admin_dsn_env="ORDERS_ADMIN_DSN")
    with pytest.raises(SeawallError, match=r"ORDERS_ADMIN_DSN is not set .* nothing was changed"):
        admin_dsn("orders", db, {})
    with pytest.raises(SeawallError, match="has no admin_dsn_env"):
        admin_dsn("orders", Database(dsn="x"), {})
    assert admin_dsn("orders", db, {"ORDERS_ADMIN_DSN": "postgresql://admin@db1"}) == (
        "postgresql://admin@db1"
    )


# --- parameters and plan ----------------------------------------------------------------


def plan(text: str, settings: dict[str, Any] = CONTRACT) -> list[tuple[str, bool, bool]]:
    params = parse_params(PLAYBOOK, text)
    return [(s.name, s.destructive, s.four_eyes) for s in PLAYBOOK.plan(params, settings)]


def test_a_look_is_one_read_only_step() -> None:
    assert plan("") == [("look", False, False)]
    assert plan("orders") == [("look", False, False)]


def test_drop_and_terminate_are_gated_and_looked_at_before_and_after() -> None:
    assert plan("orders drop=orders_cdc") == [
        ("look", False, False),
        ("drop", True, False),
        ("verify", False, False),
    ]
    assert plan("orders terminate=4242") == [
        ("look", False, False),
        ("terminate", True, False),
        ("verify", False, False),
    ]
    steps = PLAYBOOK.plan(parse_params(PLAYBOOK, "orders drop=orders_cdc"), CONTRACT)
    assert (steps[1].high_risk, steps[1].target) == (True, "orders_cdc")


def test_a_production_database_adds_four_eyes_and_so_does_any_doubt() -> None:
    assert plan("orders drop=orders_cdc", with_db(production=True))[1] == ("drop", True, True)
    assert plan("crm drop=orders_cdc")[1] == ("drop", True, True)  # not configured
    assert plan("orders terminate=1", {"databases": "broken"})[1] == ("terminate", True, True)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("drop=orders_cdc", "name the database to act on"),
        ("orders drop=a terminate=1", "one action per run"),
        ("orders terminate=abc", "`terminate` `abc`"),
        ("orders terminate=0", "greater than or equal to 1"),
        ('orders "drop=x; DROP TABLE t"', "`drop`"),
    ],
)
def test_a_command_that_does_not_fit_starts_nothing(text: str, says: str) -> None:
    with pytest.raises(ParamError) as caught:
        parse_params(PLAYBOOK, text)
    assert says in str(caught.value)


@given(st.text(max_size=80))
def test_whatever_is_typed_a_slot_name_that_passes_is_a_plain_identifier(text: str) -> None:
    try:
        params = parse_params(PLAYBOOK, f"orders drop={text!r}")
    except ParamError:
        return
    drop = params.model_dump()["drop"]
    assert drop is None or all(c.isalnum() or c in "_.-" for c in drop)


def test_help_says_which_steps_are_optional_and_when_four_eyes_apply() -> None:
    text = help_text(PLAYBOOK)
    assert "Drop replication slot &lt;drop&gt; on &lt;db&gt;" in text
    assert "(only with drop=)" in text
    assert "step-back prompt, four-eyes when the database is marked production, type the" in text
    assert "1. Look at the replication slots" in text
    assert "_(reads only)_" in text


# --- the re-checks before acting --------------------------------------------------------


def backend(**kw: Any) -> Backend:
    values: dict[str, Any] = {
        "pid": 4242,
        "backend_type": "client backend",
        "user": "report",
        "backend_start": T0,
    }
    return Backend(**{**values, **kw})


def test_a_missing_target_is_refused_by_the_look_with_nothing_changed() -> None:
    with pytest.raises(SeawallError, match="There is no replication slot `nope` on orders"):
        slot_facts("nope", None, "orders")
    with pytest.raises(SeawallError, match="pid 99 is not a session on orders"):
        backend_facts(99, None, "orders")


def test_postgres_own_processes_are_never_terminated() -> None:
    with pytest.raises(SeawallError, match="pid 4242 is Postgres's own checkpointer"):
        backend_facts(4242, backend(backend_type="checkpointer"), "orders")


def test_a_pid_reused_by_another_session_is_not_terminated() -> None:
    seen = backend_facts(4242, backend(), "orders")
    assert terminate_refusal(4242, seen, backend()) is None
    later = backend(backend_start=T0 + timedelta(minutes=5))
    refusal = terminate_refusal(4242, seen, later)
    assert refusal is not None
    assert "is now another session" in refusal
    assert "nothing was terminated" in refusal


def test_a_slot_re_created_since_the_look_is_not_dropped() -> None:
    lost = row(retained=0, status="lost")
    seen = slot_facts("orders_cdc", lost, "orders")
    assert drop_refusal("orders_cdc", seen, lost) is None
    recreated = row(retained=MB)
    refusal = drop_refusal("orders_cdc", seen, recreated)
    assert refusal is not None
    assert "a lost slot never recovers" in refusal
    other_plugin = SlotRow(name="orders_cdc", slot_type="logical", plugin="wal2json")
    assert "re-created meanwhile" in (drop_refusal("orders_cdc", seen, other_plugin) or "")


def test_after_a_drop_the_run_says_what_to_do_next() -> None:
    assert after_words("orders_cdc", None, report()).startswith(
        "Slot orders_cdc is gone: the WAL it held is freed at the next checkpoint. Next: "
        "re-create it"
    )
    back = after_words("orders_cdc", None, report(row(retained=MB)))
    assert back.startswith("Slot orders_cdc exists again")
