"""Finds playbooks: every module in playbooks/catalog/ plus SEAWALL_CONFIG's playbook_modules.

A module declares `PLAYBOOK = Playbook(...)` (or `PLAYBOOKS = [...]`). Adding one never
touches the engine.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from bot.errors import ConfigError
from playbooks import catalog
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
    names = [f"{catalog.__name__}.{m.name}" for m in pkgutil.iter_modules(catalog.__path__)]
    registry = Registry()
    for module_name in [*names, *extra_modules]:
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
