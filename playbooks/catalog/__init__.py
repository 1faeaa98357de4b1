"""Built-in playbooks: one module each (or a package, when it has more to it: slot_lag),
defining PLAYBOOK, and listed in BUILTIN below.

Adding one is a module here and a line in BUILTIN; the engine never changes."""

from __future__ import annotations

from playbooks.catalog import pause_workers, quarantine, resume_workers, slot_lag
from playbooks.definition import Playbook

BUILTIN: tuple[Playbook, ...] = (
    quarantine.PLAYBOOK,
    slot_lag.PLAYBOOK,
    pause_workers.PLAYBOOK,
    resume_workers.PLAYBOOK,
)
