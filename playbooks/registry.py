"""Finds playbooks: the built-in ones (playbooks/catalog/BUILTIN) plus the modules named by
SEAWALL_CONFIG's playbook_modules (your own code, imported by name).

Such a module declares `PLAYBOOK = Playbook(...)` (or `PLAYBOOKS = [...]`). Adding one never
touches the engine.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from bot.core.errors import ConfigError
from playbooks.catalog import BUILTIN
from playbooks.definition import Playbook


class Registry:
    def __init__(self, playbooks: Iterable[Playbook] = ()) -> None:
        self._by_name: dict[str, Playbook] = {}
        for playbook in playbooks:
            self.add(playbook)

    def add(self, playbook: Playbook) -> None:
        if playbook.name in self._by_name:
            raise ConfigError([f"two playbooks are named {playbook.name!r}"])
        self._by_name[playbook.name] = playbook

    def get(self, name: str) -> Playbook | None:
        return self._by_name.get(name)

    def all(self) -> list[Playbook]:
        return sorted(self._by_name.values(), key=lambda p: p.name)


def load_registry(extra_modules: Iterable[str] = ()) -> Registry:
    registry = Registry(BUILTIN)
    for module_name in extra_modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigError([f"playbook module {module_name} cannot be imported: {exc}"]) from exc
        found = list(getattr(module, "PLAYBOOKS", []))
        if hasattr(module, "PLAYBOOK"):
            found.append(module.PLAYBOOK)
        if not found:
            raise ConfigError([f"playbook module {module_name} defines no PLAYBOOK"])
        for playbook in found:
            registry.add(playbook)
    return registry
