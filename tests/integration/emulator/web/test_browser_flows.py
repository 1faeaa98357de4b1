"""The emulator's web page in real headless Chromium at phone size, against the real Seawall
app, worker and Redis (and a real HAProxy for the quarantine): every step is a click or a
typed line on the page, and the page sends what Slack would (signed block_actions with a
response_url and trigger_id, slash commands, reaction events, view_submission).

These tests also keep docs/screenshots up to date (tests/support/screenshots.py)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from bot.core.config import Approvers, FileConfig, StepBack
from bot.emulator import EmulatedUser, EmulatorConfig
from handlers.sandbox_samples import alertmanager_samples
from tests.conftest import StackFactory, emulator_config
from tests.support import screenshots
from tests.support.haproxy import HAProxyServer
from tests.support.stack import CHANNEL, SeawallStack

pytestmark = pytest.mark.integration

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


def people(**overrides: object) -> EmulatorConfig:
    users = {
        ALICE: EmulatedUser(name="alice", tz="Europe/Paris"),
        BOB: EmulatedUser(name="bob", tz="America/New_York"),
        CAROL: EmulatedUser(name="carol", tz="Asia/Tokyo"),
    }
    return emulator_config(users=users, **overrides)


def open_as(page: Page, stack: SeawallStack, user: str = ALICE, channel: str = CHANNEL) -> None:
    page.goto(f"{stack.emulator_server.url}/?as={user}&c={channel}")


def message(page: Page, text: str) -> Locator:
    """A message everyone in the channel sees (not an ephemeral), by some of its text."""
    return page.locator("li.msg:not(.ephemeral)").filter(has_text=text)


def ephemeral(page: Page, text: str) -> Locator:
    return page.locator("li.ephemeral").filter(has_text=text)


def say(page: Page, line: str) -> None:
    box = page.get_by_label("Message or slash command")
    box.fill(line)
    box.press("Enter")


def switch_to(page: Page, user: str) -> None:
    page.get_by_label("You are").select_option(user)
    page.wait_for_url(re.compile(f"as={user}"))


def open_dm(page: Page) -> None:
    """The phone layout's menu, then the app's DM (where step-back prompts go)."""
    page.locator(".menu > summary").click()
    page.locator(".menu").get_by_role("link", name="seawall").click()


def fits_the_screen(page: Page, controls: Locator) -> None:
    """Each control is on screen, and the page itself is no wider than the screen."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    assert controls.count() > 0
    for control in controls.all():
        expect(control).to_be_visible()
        box = control.bounding_box()
        assert box is not None
        assert box["x"] >= 0, control.inner_text()
        assert box["x"] + box["width"] <= width, control.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_alert_card_fits_a_phone_and_acknowledge_updates_it(
    make_stack: StackFactory, phone: Page
) -> None:
    stack = make_stack(emulator=people())
    stack.post_alertmanager(alertmanager_samples(datetime.now(UTC))[0])
    open_as(phone, stack)
    card = message(phone, "HighLatency")
    expect(card.get_by_role("button", name="Acknowledge")).to_be_visible()
    fits_the_screen(phone, card.locator(".bk-actions .btn"))
    screenshots.keep(phone, "alert-card", card)

    card.get_by_role("button", name="Acknowledge").click()
    expect(card).to_contain_text("Acknowledged by @alice")
    expect(card.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(card.locator(".edited")).to_have_text("(edited)")
    # Seawall answered through the click's response_url: an ephemeral only Alice sees.
    expect(ephemeral(phone, "Acknowledged")).to_contain_text("Only visible to you")
    assert [c for c in stack.emulator.calls_to("response_url") if c.http_status == 200]
    fits_the_screen(phone, card.locator(".bk-actions .btn"))
    expect(card.locator(".replies")).to_have_text("1 reply")  # "Acknowledged by ..."
    screenshots.keep(phone, "alert-card-acknowledged", card)

    card.locator(".replies").click()
    expect(phone.get_by_role("heading", name="Thread in #alerts")).to_be_visible()
    expect(phone.locator("li.msg")).to_have_count(2)  # the card, and its reply


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[HAProxyServer]:
    with HAProxyServer(tmp_path, ["web-1", "web-2", "web-3", "spare-1"]) as server:
        server.admin("set server be/spare-1 state maint")  # spares wait in maintenance
        yield server


def haproxy_state(haproxy: HAProxyServer, server: str) -> str:
    for row in haproxy.admin("show servers state be").splitlines():
        cols = row.split()
        if len(cols) > 6 and cols[3] == server:
            return "MAINT" if int(cols[6]) & 0x01 else "UP"
    raise AssertionError(f"{server} not in HAProxy")


def test_quarantine_runs_through_the_step_back_prompt_and_typed_confirm_by_clicks(
    make_stack: StackFactory, haproxy: HAProxyServer, phone: Page
) -> None:
    config = FileConfig(
        step_back=StepBack(confirm_delay_seconds=0),
        playbooks={
            "quarantine": {
                "haproxy_socket": str(haproxy.socket_path),
                "backend": "be",
                "spares": ["spare-1"],
                "drain_seconds": 0,
            }
        },
    )
    stack = make_stack(emulator=people(), file_config=config)
    open_as(phone, stack)
    say(phone, "/incident quarantine web-3")
    expect(ephemeral(phone, "quarantine")).to_be_visible()

    open_dm(phone)
    prompt = message(phone, "Blast radius")  # the step-back prompt, whatever its state
    expect(prompt).to_contain_text("Step back before")
    confirm = prompt.get_by_role("button", name="Confirm")
    expect(confirm).to_be_visible()
    fits_the_screen(phone, prompt.locator(".bk-actions .btn"))
    screenshots.keep(phone, "step-back-prompt", prompt)
    assert haproxy_state(haproxy, "web-3") == "UP"  # nothing changes before the confirm

    confirm.click()
    dialog = phone.get_by_role("dialog")
    dialog.get_by_role("textbox").fill("web-4")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog.get_by_role("alert")).to_have_text("Type web-3 exactly to confirm")
    screenshots.keep(phone, "typed-confirm")
    dialog.get_by_role("textbox").fill("web-3")
    dialog.get_by_role("button", name="Confirm").click()
    expect(dialog).to_have_count(0)
    expect(prompt).to_contain_text("Confirmed by @alice")

    phone.locator(".menu > summary").click()
    phone.locator(".menu").get_by_role("link", name="#alerts").click()
    run = message(phone, "Playbook quarantine")
    expect(run).to_contain_text("succeeded")
    assert haproxy_state(haproxy, "web-3") == "MAINT"
    assert haproxy_state(haproxy, "spare-1") == "UP"
    expect(run.locator(".replies")).to_have_text("2 replies")  # waiting, then all done
    screenshots.keep(phone, "quarantine-run", run)


def test_a_change_needs_a_second_person_who_approves_by_reaction_or_button(
    make_stack: StackFactory, phone: Page
) -> None:
    approvers = Approvers(users=[BOB], change_checklist=["Consumers moved to topic v2?"])
    stack = make_stack(emulator=people(), file_config=FileConfig(approvers=approvers))
    open_as(phone, stack)
    say(phone, "/incident change move the orders consumers to topic v2")
    change = message(phone, "Change request")
    change.get_by_role("button", name="Approve").click()
    own = ephemeral(phone, "your own approval does not count")
    expect(own).to_be_visible()

    switch_to(phone, BOB)
    expect(phone.locator("li.ephemeral")).to_have_count(0)  # Alice's ephemerals are hers
    change.locator(".react-picker > summary").click()
    change.get_by_title("white_check_mark").click()
    expect(change).to_contain_text("@bob (reaction)")
    change.locator(".pill", has_text="✅").click()  # removing it withdraws the approval
    expect(change).to_contain_text("withdrew their approval")
    expect(change).to_contain_text("waiting for approval")

    change.get_by_role("button", name="Approve").click()
    expect(change).to_contain_text("@bob (button)")
    expect(change.get_by_role("button", name="Mark as done")).to_have_count(0)
    change.get_by_role("checkbox", name="Consumers moved to topic v2?").check()  # sends at once
    expect(change.get_by_role("button", name="Mark as done")).to_be_visible()
    expect(change.get_by_role("checkbox")).to_be_checked()
    fits_the_screen(phone, change.locator(".bk-actions .btn"))
    # A picture of the finished card: its thread replies come a moment after its update.
    expect(change.locator(".replies")).to_have_text("3 replies")
    screenshots.keep(phone, "change-approved", change)


def test_in_socket_mode_clicks_and_a_modal_go_over_the_socket(
    make_stack: StackFactory, phone: Page
) -> None:
    # A Request URL nobody listens on: anything sent over HTTP would fail and say so.
    unused = dataclasses.replace(people(), request_url="http://127.0.0.1:9/", signing_secret="x")
    stack = make_stack(emulator=unused, socket_mode=True)
    stack.post_alertmanager(alertmanager_samples(datetime.now(UTC))[1])
    open_as(phone, stack)
    card = message(phone, "DiskFilling")
    acks_before = len(stack.emulator.socket.acks)
    card.get_by_role("button", name="Acknowledge").click()
    expect(card).to_contain_text("Acknowledged by @alice")

    card.get_by_role("button", name="Declare incident").click()
    dialog = phone.get_by_role("dialog")
    expect(dialog.get_by_label("Title")).to_have_value("DiskFilling")  # the modal's initial value
    dialog.get_by_label("Severity").select_option(label="🔴 SEV1")
    dialog.get_by_role("button", name="Declare").click()
    expect(dialog).to_have_count(0)
    expect(card).to_contain_text("Incident #inc-")
    expect(phone.locator(".sidebar").first).to_contain_text("#inc-")
    expect(phone.locator(".notice")).to_have_count(0)
    assert len(stack.emulator.socket.acks) >= acks_before + 3  # click, click, submission
    assert stack.emulator.socket.problems == []
