"""docs/screenshots: pictures of the main cards at phone width, taken by the browser tests.

A test takes a picture only when what it shows changed: each picture has a fingerprint in
docs/screenshots/fingerprints.json (the element's HTML with times, dates and ids made
neutral, plus the page's stylesheet), and the PNG is written again only when that differs.
So a run on an unchanged tree writes nothing (CI leaves git clean), while a change to a card,
the renderer or the CSS rewrites the picture in the same run that tests it, and `git status`
shows it to commit beside the change. Pixels are never compared: fonts and Chromium builds
differ between machines, what the card says does not.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

from playwright.sync_api import Locator, Page

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FINGERPRINTS = FOLDER / "fingerprints.json"
# Run ids and other hex tokens, then every number (its length too: a change counter may go
# from 99 to 100), then relative day names: what changes from one run to the next without
# the card changing.
_HEX_ID = re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{6,}\b")
_DIGITS = re.compile(r"\d+")
_DAYS = re.compile(r"\b(today|yesterday|tomorrow)\b")


def fingerprint(html: str, viewport: str) -> str:
    neutral = _DAYS.sub("<day>", _DIGITS.sub("0", _HEX_ID.sub("<id>", html)))
    css = resources.files("bot.emulator.web").joinpath("static", "page.css").read_bytes()
    digest = hashlib.sha256()
    for part in (neutral.encode(), css, viewport.encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def keep(page: Page, name: str, what: Locator | None = None) -> Path:
    """docs/screenshots/<name>.png of `what` (else the whole screen), written only when its
    fingerprint changed or the file is missing; returns the path."""
    target = what or page.locator("body")
    size = page.viewport_size or {"width": 0, "height": 0}
    scale = page.evaluate("window.devicePixelRatio")
    found = fingerprint(target.evaluate("e => e.outerHTML"), f"{size}x{scale}")
    known = json.loads(FINGERPRINTS.read_text()) if FINGERPRINTS.exists() else {}
    path = FOLDER / f"{name}.png"
    if known.get(name) == found and path.exists():
        return path
    FOLDER.mkdir(parents=True, exist_ok=True)
    if what is None:
        page.screenshot(path=path, animations="disabled")
    else:
        what.screenshot(path=path, animations="disabled")
    known[name] = found
    FINGERPRINTS.write_text(json.dumps(dict(sorted(known.items())), indent=2) + "\n")
    return path
