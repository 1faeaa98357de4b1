"""The import-linter contract that keeps the emulator free of Seawall names every part of
Seawall: a new package under bot/ must be added to it, or the emulator could import it
unnoticed (`lint-imports` checks only the modules the contract lists)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = "The Slack emulator imports nothing of Seawall"


def test_the_emulator_contract_forbids_every_other_part_of_seawall() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == CONTRACT]
    bot_parts = {
        f"bot.{p.stem if p.is_file() else p.name}"
        for p in (ROOT / "bot").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert contract["source_modules"] == ["bot.emulator"]
    expected = (bot_parts - {"bot.emulator"}) | {"handlers", "playbooks"}
    assert expected - set(contract["forbidden_modules"]) == set()
