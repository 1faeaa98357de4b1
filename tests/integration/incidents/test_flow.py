"""Incidents end to end: /incident commands, the Declare button, the timeline, the postmortem."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bot.cards.common import ActionId
from bot.cards.incident import DECLARE_CALLBACK
from bot.core import keys
from bot.emulator.payloads import build_slash_command
from bot.models.incident import incident_card_id
from bot.models.timeline import TimelineEntry
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.redis_server import RedisServer, let_time_pass
from tests.support.stack import (
    CHANNEL,
    SIGNING_SECRET,
    SeawallStack,
    button_value,
    click,
    declare_from_card,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def as_text(blocks: Any) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def created_channels(stack: SeawallStack) -> list[dict[str, Any]]:
    """Channels Slack created for Seawall, oldest first."""
    calls = stack.emulator.calls_to("conversations.create")
    return [c.response["channel"] for c in calls if c.response.get("ok")]


def declare(stack: SeawallStack, text: str = "DB down --sev sev1", user: str = "U0ALICE") -> str:
    """Declare from #alerts; returns the new incident channel's id."""
    response = stack.sender.slash_command("/incident", f"declare {text}", user_id=user)
    assert response.status_code == 200
    created = wait_until(lambda: created_channels(stack), what="the incident channel")
    channel = str(created[-1]["id"])
    wait_until(  # the announcement is the last thing a declaration does
        lambda: [m for m in stack.messages(CHANNEL) if f"<#{channel}>" in m.text],
        what="the announcement in #alerts",
    )
    return channel


def incident_id_of(stack: SeawallStack, channel: str) -> str:
    incident = stack.server.run_coroutine(stack.deps.redis.get(keys.incident_channel(channel)))
    assert incident, f"{channel} is not an incident channel"
    return str(incident)


def entries(stack: SeawallStack, incident_id: str) -> list[TimelineEntry]:
    return stack.server.run_coroutine(stack.deps.timeline.read(incident_id))


def summary_card(stack: SeawallStack, channel: str) -> str:
    """The text of the incident channel's pinned message (fails until it is pinned)."""
    [ts] = wait_until(lambda: stack.emulator.pins(channel), what="the pinned summary card")
    message = stack.emulator.message(channel, ts)
    assert message is not None
    return as_text(message.blocks)


def ephemeral_after(stack: SeawallStack, count: int) -> Any:
    """The ephemeral answer after the first `count` ones."""
    found = wait_until(lambda: stack.emulator.ephemerals[count:], what="an ephemeral answer")
    return found[0]


def command_in(stack: SeawallStack, channel: str, text: str, user: str = "U0ALICE") -> None:
    response = stack.sender.slash_command("/incident", text, user_id=user, channel_id=channel)
    assert response.status_code == 200


def person_says(stack: SeawallStack, channel: str, user: str, text: str) -> None:
    """A person posts in a channel, and Slack tells Seawall (Events API `message`)."""
    posted = stack.emulator.post_user_message(channel, user, text)
    event = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": posted.ts,
        "channel_type": "channel",
    }
    assert stack.sender.event(event).status_code == 200


def test_declare_creates_a_channel_with_a_pinned_summary_card(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    [created] = created_channels(stack)
    assert created["name"].startswith("inc-")
    assert created["name"].endswith("-db-down")
    card = summary_card(stack, channel)
    assert "SEV1 · OPEN · DB down" in card
    assert "<@U0ALICE>" in card
    assert "/incident resolve" in card


def test_declare_invites_the_declarer_and_announces_in_the_channel_it_came_from(
    make_stack: Any,
) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    assert "U0ALICE" in stack.emulator.members(channel)
    announcement = wait_until(
        lambda: [m for m in stack.messages(CHANNEL) if f"<#{channel}>" in m.text],
        what="the announcement in #alerts",
    )
    assert "declared a *SEV1* incident: *DB down*" in announcement[0].text


def test_declare_records_the_first_timeline_entry(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    [first] = entries(stack, incident_id_of(stack, channel))
    assert first.kind == "incident"
    assert first.text == "Incident declared: DB down (SEV1)"
    assert first.actor == "U0ALICE"


def test_a_double_submitted_declare_creates_one_incident(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    for _ in range(2):
        stack.sender.slash_command("/incident", "declare DB down --sev sev1", user_id="U0ALICE")
    answers = wait_until(
        lambda: (
            [e for e in stack.emulator.ephemerals if "Nothing new was created" in e.text]
            or [e for e in stack.emulator.ephemerals if "being declared right now" in e.text]
        ),
        what="the duplicate's answer",
    )
    assert answers
    wait_until(lambda: created_channels(stack), what="the incident channel")
    # The channel exists a moment before the declaration finishes recording the incident.
    open_ids = wait_until(
        lambda: stack.server.run_coroutine(stack.deps.redis.zrange(keys.OPEN_INCIDENTS, 0, -1)),
        what="the open incident",
    )
    assert len(open_ids) == 1
    assert len(created_channels(stack)) == 1


def test_a_retried_declare_with_the_same_trigger_id_creates_one_incident(
    make_stack: Any,
) -> None:
    stack = make_stack(worker=True)
    declare(stack)
    retry = stack.sender.slash_command(
        "/incident", "declare DB down --sev sev1", user_id="U0ALICE", trigger_id="1.T.same"
    )
    assert retry.status_code == 200
    answer = ephemeral_after(stack, 0)
    assert "moments ago" in answer.text
    assert len(created_channels(stack)) == 1


def test_a_replayed_declare_inside_the_signature_window_creates_one_incident(
    make_stack: Any, redis_server: RedisServer
) -> None:
    stack = make_stack(worker=True)
    sender = stack.sender
    # Signed 140 s ago and replayed 138 s after its first delivery: both inside Slack's 5 min.
    request = build_slash_command(
        signing_secret=SIGNING_SECRET,
        team=sender.team,
        command="/incident",
        text="declare DB down --sev sev1",
        user_id="U0ALICE",
        user_name="alice",
        channel_id=CHANNEL,
        channel_name="alerts",
        response_url=sender.issue_response_url(CHANNEL, "U0ALICE", None),
        trigger_id=sender.issue_trigger_id(),
        timestamp=int(time.time()) - 140,
    )
    url = f"{stack.url}/slack/events"
    first = stack.http.post(url, content=request.body, headers=request.headers)
    assert first.status_code == 200
    assert "declared" in first.text
    with redis_server.client() as client:
        let_time_pass(client, 138)  # the declaration's own 2-minute guard has lapsed
    replay = stack.http.post(url, content=request.body, headers=request.headers)
    assert (replay.status_code, replay.text) == (200, "")
    assert len(created_channels(stack)) == 1
    assert len(stack.server.run_coroutine(stack.deps.redis.zrange(keys.OPEN_INCIDENTS, 0, -1))) == 1


def test_a_taken_channel_name_gets_a_numbered_suffix(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    declare(stack, "DB down", user="U0ALICE")
    stack.sender.slash_command("/incident", "declare DB down", user_id="U0BOB")
    channels = wait_until(lambda: created_channels(stack)[1:], what="the second channel")
    assert channels[0]["name"].endswith("-db-down-2")


def test_bad_severity_is_explained_and_nothing_is_created(make_stack: Any) -> None:
    stack = make_stack()
    stack.sender.slash_command("/incident", "declare DB down --sev critical")
    answer = ephemeral_after(stack, 0)
    assert "sev1, sev2, sev3 or sev4" in answer.text
    assert "Nothing was declared" in answer.text
    assert stack.emulator.calls_to("conversations.create") == []


def test_status_in_the_channel_shows_the_summary_and_latest_timeline(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    command_in(stack, channel, "status")
    answer = ephemeral_after(stack, 0)
    blocks = as_text(answer.blocks)
    assert "SEV1 · OPEN · DB down" in blocks
    assert "Incident declared: DB down (SEV1)" in blocks


def test_status_elsewhere_lists_open_incidents(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    command_in(stack, CHANNEL, "status")
    answer = ephemeral_after(stack, 0)
    assert "Open incidents (1)" in answer.text
    assert f"<#{channel}>" in answer.text


def test_timeline_in_the_channel_shows_entries_escaped(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    person_says(stack, channel, "U0BOB", "restarting <!channel> primary & replica")
    wait_until(lambda: len(entries(stack, incident_id_of(stack, channel))) == 2, what="message")
    command_in(stack, channel, "timeline")
    answer = ephemeral_after(stack, 0)
    blocks = as_text(answer.blocks)
    assert "restarting @channel primary &amp; replica" in blocks
    assert "<!channel>" not in blocks
    assert "<@U0BOB>" in blocks


def test_a_persons_message_in_the_incident_channel_joins_the_timeline(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    person_says(stack, channel, "U0BOB", "replica lag is 40s, failing over to db-2")
    incident_id = incident_id_of(stack, channel)
    found = wait_until(
        lambda: [e for e in entries(stack, incident_id) if e.kind == "message"],
        what="the message in the timeline",
    )
    assert found[0].text == "replica lag is 40s, failing over to db-2"
    assert found[0].actor == "U0BOB"


def test_messages_elsewhere_and_from_bots_stay_out_of_the_timeline(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    person_says(stack, CHANNEL, "U0BOB", "unrelated chatter")
    bot_message = {"type": "message", "subtype": "bot_message", "bot_id": "B0OTHER"}
    stack.sender.event({**bot_message, "channel": channel, "text": "beep", "ts": "1.000002"})
    person_says(stack, channel, "U0BOB", "the marker")
    incident_id = incident_id_of(stack, channel)
    wait_until(
        lambda: any(e.text == "the marker" for e in entries(stack, incident_id)), what="marker"
    )
    texts = [e.text for e in entries(stack, incident_id)]
    assert "unrelated chatter" not in texts
    assert "beep" not in texts


def test_resolve_in_the_channel_updates_the_card_and_the_timeline(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    summary_card(stack, channel)
    command_in(stack, channel, "resolve", user="U0BOB")
    wait_until(lambda: "RESOLVED · SEV1 · DB down" in summary_card(stack, channel), what="card")
    said = wait_until(
        lambda: [m for m in stack.messages(channel) if "resolved *DB down*" in m.text],
        what="the resolution in the channel",
    )
    assert "<@U0BOB>" in said[0].text
    last = entries(stack, incident_id_of(stack, channel))[-1]
    assert (last.kind, last.text, last.actor) == ("incident", "Incident resolved", "U0BOB")
    open_ids = stack.server.run_coroutine(stack.deps.redis.zrange(keys.OPEN_INCIDENTS, 0, -1))
    assert open_ids == []


def test_resolving_twice_changes_nothing_the_second_time(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    command_in(stack, channel, "resolve", user="U0BOB")
    incident_id = incident_id_of(stack, channel)
    wait_until(lambda: len(entries(stack, incident_id)) == 2, what="the resolution")
    command_in(stack, channel, "resolve", user="U0ALICE")
    answer = ephemeral_after(stack, 0)
    assert "already resolved by <@U0BOB>" in answer.text
    assert len(entries(stack, incident_id)) == 2


def test_resolve_outside_an_incident_channel_explains(make_stack: Any) -> None:
    stack = make_stack()
    command_in(stack, CHANNEL, "resolve")
    answer = ephemeral_after(stack, 0)
    assert "not an incident channel" in answer.text


def triage_card(stack: SeawallStack, name: str = "ReplicaLag") -> Any:
    stack.post_alertmanager(group_payload(name))
    [card] = wait_until(stack.messages, what="the triage card")
    return card


def test_declare_on_a_triage_card_creates_an_incident_linked_to_that_alert(
    make_stack: Any,
) -> None:
    stack = make_stack(worker=True)
    card = triage_card(stack)
    declare_from_card(stack, card, "U0BOB")
    [created] = wait_until(lambda: created_channels(stack), what="the incident channel")
    channel = str(created["id"])
    assert created["name"].endswith("-replicalag")
    assert "Linked alerts" in summary_card(stack, channel)
    assert "ReplicaLag" in summary_card(stack, channel)
    shown = wait_until(
        lambda: (
            f"Incident <#{channel}> declared by <@U0BOB>"
            in as_text(stack.emulator.message(CHANNEL, card.ts).blocks)
        ),
        what="the incident on the triage card",
    )
    assert shown
    kinds = [(e.kind, e.text) for e in entries(stack, incident_id_of(stack, channel))]
    assert ("alert", "Alert linked: ReplicaLag") in kinds
    updated = stack.emulator.message(CHANNEL, card.ts)
    assert button_value(updated, ActionId.DECLARE_INCIDENT) is None


def test_a_linked_alert_that_resolves_and_is_acknowledged_joins_the_timeline(
    make_stack: Any,
) -> None:
    stack = make_stack(worker=True)
    card = triage_card(stack)
    declare_from_card(stack, card, "U0BOB")
    [created] = wait_until(lambda: created_channels(stack), what="the incident channel")
    incident_id = incident_id_of(stack, str(created["id"]))
    wait_until(
        lambda: "Incident <#" in as_text(stack.emulator.message(CHANNEL, card.ts).blocks),
        what="the link on the triage card",
    )
    click(stack, card, ActionId.ACK, "U0ALICE")
    stack.post_alertmanager(group_payload("ReplicaLag", status="resolved", alerts=0, resolved=1))
    wanted = {("action", "Alert acknowledged: ReplicaLag"), ("alert", "Alert resolved: ReplicaLag")}
    wait_until(
        lambda: wanted <= {(e.kind, e.text) for e in entries(stack, incident_id)},
        what="the acknowledgement and the resolution in the timeline",
    )


def test_declare_incident_on_a_card_opens_a_form_with_the_cards_title_and_declares_nothing_yet(
    make_stack: Any,
) -> None:
    stack = make_stack(worker=True)
    card = triage_card(stack)
    click(stack, card, ActionId.DECLARE_INCIDENT, "U0BOB")
    [view] = wait_until(lambda: stack.emulator.views, what="the declare-incident modal")
    assert view["callback_id"] == DECLARE_CALLBACK
    assert view["blocks"][1]["element"]["initial_value"] == "ReplicaLag"
    assert view["blocks"][2]["element"]["initial_option"]["value"] == "sev2"
    assert created_channels(stack) == []


def test_the_form_declares_the_incident_with_its_title_and_severity_linked_to_the_card(
    make_stack: Any,
) -> None:
    stack = make_stack(worker=True)
    card = triage_card(stack)
    response = declare_from_card(
        stack, card, "U0BOB", title="Orders replica lagging", severity="sev1"
    )
    assert response.text == ""  # the modal closes
    [created] = wait_until(lambda: created_channels(stack), what="the incident channel")
    channel = str(created["id"])
    assert created["name"].endswith("-orders-replica-lagging")
    summary = summary_card(stack, channel)
    assert "SEV1 · OPEN · Orders replica lagging" in summary
    assert "ReplicaLag" in summary  # the linked alert keeps the card's title
    said = wait_until(
        lambda: [e for e in stack.emulator.ephemerals if e.user == "U0BOB"],
        what="the answer beside the card",
    )
    assert said[0].channel == CHANNEL
    assert said[0].text.startswith(f"Incident <#{channel}> declared (SEV1)")
    wait_until(
        lambda: (
            f"Incident <#{channel}> declared by <@U0BOB>"
            in as_text(stack.emulator.message(CHANNEL, card.ts).blocks)
        ),
        what="the incident on the triage card",
    )


def test_an_empty_title_keeps_the_form_open_with_an_error_and_declares_nothing(
    make_stack: Any,
) -> None:
    stack = make_stack(worker=True)
    card = triage_card(stack)
    response = declare_from_card(stack, card, "U0BOB", title="   ")
    assert response.json() == {
        "response_action": "errors",
        "errors": {"title": "Give the incident a title: it names the incident's channel."},
    }
    assert created_channels(stack) == []


def test_postmortem_writes_markdown_with_the_timeline(make_stack: Any, tmp_path: Path) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    person_says(stack, channel, "U0BOB", "failing over | to db-2")
    command_in(stack, channel, "resolve", user="U0BOB")
    incident_id = incident_id_of(stack, channel)
    wait_until(lambda: len(entries(stack, incident_id)) == 3, what="three entries")
    output = tmp_path / "postmortem.md"
    result = subprocess.run(
        [sys.executable, "-m", "handlers.cli", "postmortem", incident_id, "--output", str(output)],
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": stack.deps.settings.redis_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Wrote the postmortem of {incident_id} (3 timeline entries)" in result.stderr
    text = output.read_text()
    assert text.startswith("# Postmortem: DB down\n")
    assert "| Severity | SEV1 |" in text
    assert "| incident | @U0ALICE | Incident declared: DB down (SEV1) |" in text
    assert "| message | @U0BOB | failing over \\| to db-2 |" in text
    assert "### @U0BOB (2 entries)" in text
    assert "**Root cause**" in text


def test_postmortem_of_an_unknown_incident_says_so_and_writes_nothing(
    stack: SeawallStack, tmp_path: Path
) -> None:
    output = tmp_path / "postmortem.md"
    result = subprocess.run(
        [sys.executable, "-m", "handlers.cli", "postmortem", "nope", "-o", str(output)],
        env={"PATH": "/usr/bin:/bin", "REDIS_URL": stack.deps.settings.redis_url},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "No incident 'nope'" in result.stderr
    assert "nothing was written" in result.stderr
    assert not output.exists()


def test_the_incident_card_is_stored_under_its_id(make_stack: Any) -> None:
    stack = make_stack(worker=True)
    channel = declare(stack)
    incident_id = incident_id_of(stack, channel)
    card = stack.server.run_coroutine(stack.deps.store.get_card(incident_card_id(incident_id)))
    assert card is not None
    assert card.channel == channel


def test_help_lists_the_incident_subcommands(stack: SeawallStack) -> None:
    stack.sender.slash_command("/incident", "help")
    answer = ephemeral_after(stack, 0)
    for usage in ("declare <title> [--sev sev1|sev2|sev3|sev4]", "status", "timeline", "resolve"):
        assert f"`/incident {usage}`" in answer.text
