"""What `seawall check` asks about slot-lag: do its settings parse, can each database be
read with the monitoring DSN, and is there anything that will bite at 3 a.m. (no cap, a role
without pg_monitor, no admin DSN to act with)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bot.core.config import FileConfig
from bot.core.errors import ConfigError, ExternalServiceError
from playbooks.catalog.slot_lag.settings import configured
from playbooks.providers.postgres import PsycopgSlots

TIMEOUT_S = 10.0


async def preflight(config: FileConfig, environ: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(problems, warnings), each a sentence; both empty when slot-lag is not configured."""
    try:
        settings = configured(config)
    except ConfigError as exc:
        return exc.problems, []
    if settings is None:
        return [], []
    problems: list[str] = []
    warnings: list[str] = []
    for name, db in settings.databases.items():
        source = PsycopgSlots(db.dsn, label=name, read_only=True)
        try:
            snap = await asyncio.wait_for(source.snapshot(name), TIMEOUT_S)
        except (ExternalServiceError, TimeoutError) as exc:
            reason = str(exc) or f"no answer in {TIMEOUT_S:.0f} s"
            problems.append(f"slot-lag cannot look at {name}: {reason}")
            continue
        if snap.cap_bytes is None:
            warnings.append(
                f"slot-lag: max_slot_wal_keep_size is -1 on {name}: a stalled slot can fill "
                "the disk, and the watch has no cap to warn before"
            )
        if snap.wal_dir_bytes is None:
            warnings.append(
                f"slot-lag: the role in {name}'s dsn lacks pg_monitor: other sessions' "
                "transactions and queries are hidden from it (GRANT pg_monitor TO ...)"
            )
        if db.admin_dsn_env and not environ.get(db.admin_dsn_env):
            warnings.append(
                f"slot-lag: {db.admin_dsn_env} is not set here: on a worker without it, "
                f"Seawall can look at {name} but not terminate or drop"
            )
    return problems, warnings
