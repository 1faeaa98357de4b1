"""Every picture the browser tests keep in docs/screenshots is there, fingerprinted and shown
in docs/screenshots/README.md; and nothing there is a picture no test takes any more."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
FOLDER = ROOT / "docs" / "screenshots"
TESTS = ROOT / "tests" / "integration" / "emulator" / "web"


def kept_by_the_tests() -> set[str]:
    calls = (
        re.findall(r'screenshots\.keep\(\w+, "([\w-]+)"', p.read_text())
        for p in TESTS.glob("test_*.py")
    )
    return {name for found in calls for name in found}


def test_each_kept_picture_is_committed_fingerprinted_and_documented() -> None:
    names = kept_by_the_tests()
    assert names, "no screenshots.keep(...) found: the pattern above is out of date"
    shown = (FOLDER / "README.md").read_text()
    assert {p.stem for p in FOLDER.glob("*.png")} == names
    assert set(json.loads((FOLDER / "fingerprints.json").read_text())) == names
    assert {n for n in names if f'src="{n}.png"' not in shown} == set()
