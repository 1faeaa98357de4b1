"""README's "See it in a browser", as written: `make demo` (`seawall sandbox`) prints an
address, and at that address the three numbered steps work by clicks and typed lines alone,
in headless Chromium at phone size. The sandbox runs as a child process, stopped by PID."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.support.ports import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[4]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """`make demo`'s command on free ports; the address it prints for the browser."""
    log = tmp_path / "sandbox.log"
    command = [sys.executable, "-m", "handlers.cli", "sandbox"]
    ports = ["--port", str(free_port()), "--emulator-port", str(free_port())]
    with log.open("wb") as out:
        proc = subprocess.Popen([*command, *ports], cwd=ROOT, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"See it in a browser, and click: (\S+)", log.read_text())):
            assert proc.poll() is None, f"the sandbox exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no address in 30 s:\n{log.read_text()}"
            time.sleep(0.1)
        yield found.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def step(number: int) -> str:
    """The README's numbered step, so a changed instruction fails here until checked."""
    section = README.split("## See it in a browser", 1)[1]
    found = re.search(rf"^{number}\. (.+?)(?=^\d\. |^$)", section, re.M | re.S)
    assert found, f"README's 'See it in a browser' has no step {number}"
    return found.group(1)


def say(page: Page, line: str) -> None:
    box = page.get_by_label("Message or slash command")
    box.fill(line)
    box.press("Enter")


def go_to(page: Page, name: str) -> None:
    page.locator(".menu > summary").click()
    page.locator(".menu").get_by_role("link", name=name).click()


def test_the_readme_walkthrough_works_by_clicking_in_the_sandbox(
    sandbox_url: str, phone: Page
) -> None:
    phone.goto(sandbox_url)
    cards = phone.locator("li.msg:not(.ephemeral)")

    assert "**Acknowledge** a sample alert card" in step(1)
    card = cards.filter(has_text="HighLatency")
    card.get_by_role("button", name="Acknowledge").click()
    expect(card).to_contain_text("Acknowledged by @alice")

    quarantine = "/incident quarantine web-3"
    assert all(s in step(2) for s in (f"`{quarantine}`", "*seawall*", "**Confirm**", "`web-3`"))
    say(phone, quarantine)
    go_to(phone, "seawall")
    prompt = cards.filter(has_text="Blast radius")
    prompt.get_by_role("button", name="Confirm").click()  # waits the sandbox's 5 s delay
    dialog = phone.get_by_role("dialog")
    dialog.get_by_role("textbox").fill("web-3")
    dialog.get_by_role("button", name="Confirm").click()
    expect(prompt).to_contain_text("Confirmed by @alice")
    go_to(phone, "#alerts")
    expect(cards.filter(has_text="Playbook quarantine")).to_contain_text("succeeded")

    change = "/incident change rotate the orders DB password"
    assert all(s in step(3) for s in (f"`{change}`", "switch to Bob", "**Approve**"))
    say(phone, change)
    request = cards.filter(has_text="Change request")
    expect(request).to_contain_text("waiting for approval")
    phone.get_by_label("You are").select_option(label="bob")
    phone.wait_for_url(re.compile("as=U0BOB"))
    request.get_by_role("button", name="Approve").click()
    expect(request).to_contain_text("@bob (button)")
    expect(request).to_contain_text("approved")
