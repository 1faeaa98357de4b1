"""A real headless Chromium (Debian's `chromium`, installed by `make test`), driven by
Playwright, at a phone's size. One browser per module (a launch costs ~1.5 s); each test gets
a fresh context, so no cookie or page state leaks between tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"  # never a browser Playwright downloads: CI has no internet
PHONE = {"width": 390, "height": 844}
WAIT_MS = 20_000  # how long an expectation may wait for the worker, the poster and a poll

expect.set_options(timeout=WAIT_MS)


def require_chromium(executable: str = CHROMIUM) -> None:
    """Fail (never skip: a skipped browser test proves nothing) when Chromium is missing."""
    if not Path(executable).is_file():
        pytest.fail(
            f"{executable} not found: the browser-view tests need Debian's chromium package. "
            "Run `make system-deps` (the first step of `make test`), or "
            "`sudo apt-get install -y chromium fonts-noto-color-emoji`.",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page at 390x844 (an iPhone 12-14) that fails the test on any JavaScript error."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
