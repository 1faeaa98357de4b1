"""`/playbook` and `/incident quarantine`: list, help, start and follow playbook runs."""

from __future__ import annotations

from handlers.commands import Subcommand

SUBCOMMANDS: list[Subcommand] = []
