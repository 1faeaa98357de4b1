"""The README's configuration table is the user's contract: keep it equal to Settings."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.core.config import FileConfig, Settings
from playbooks.catalog.slot_lag.settings import configured

README = Path(__file__).resolve().parents[2] / "README.md"
ROW = re.compile(r"^\| `([A-Z_]+)` \| (yes|no) \| (.+?) \|")


def readme_rows() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in README.read_text(encoding="utf-8").splitlines():
        if match := ROW.match(line):
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def test_readme_lists_exactly_the_settings_with_their_required_flag_and_default() -> None:
    expected = {}
    for name, field in Settings.model_fields.items():
        if field.is_required():
            expected[name.upper()] = ("yes", "—")
        else:
            default = "unset" if field.default is None else f"`{field.default}`"
            expected[name.upper()] = ("no", default)
    assert readme_rows() == expected


def test_readme_shows_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text
    assert "make test" in text


def test_the_readme_config_file_example_is_valid() -> None:
    text = README.read_text(encoding="utf-8")
    after = text.split("The YAML file named by `SEAWALL_CONFIG`", 1)[1]
    block = after.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = FileConfig.model_validate(yaml.safe_load(block))
    assert config.approvers.users == ["U0123ALICE"]
    assert config.approvers.checklists["database"].match == ["postgres", "db", "replica"]
    assert config.approvers.change_checklist == ["Announced in #changes?"]
    assert config.playbooks["quarantine"]["backend"] == "web"
    assert config.retention.resolved_cards.days == 30
    slot_lag = configured(config)
    assert slot_lag is not None
    assert slot_lag.databases["orders"].admin_dsn_env == "ORDERS_ADMIN_DSN"
    assert slot_lag.watch.interval == 30
    assert config.oncall is not None
    assert config.oncall.escalation[0].notify == ["schedule:primary"]


def layout_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## Layout", 1)[1].split("\n## ", 1)[0]


def test_the_layout_section_names_every_package_and_shared_module() -> None:
    root = README.parent
    layout = layout_section()
    packages = [
        p.relative_to(root)
        for top in ("bot", "handlers", "playbooks")
        for p in (root / top).iterdir()
        if (p / "__init__.py").exists()
    ]
    shared = [p.name for p in (root / "bot").glob("*.py") if p.name != "__init__.py"]
    missing = [f"{p.name}/" for p in packages if f"{p.name}/" not in layout]
    missing += [name for name in shared if name not in layout]
    assert missing == []
