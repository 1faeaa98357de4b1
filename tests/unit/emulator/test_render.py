"""render_message: a card as a newcomer reads it in the sandbox terminal."""

from __future__ import annotations

from bot.cards.render import render
from bot.emulator import (
    EmulatedMessage,
    EmulatedUser,
    EmulatorConfig,
    SlackEmulator,
    render_message,
)
from bot.emulator.render import render_blocks
from tests.fixtures.approvals import T0, card_of, with_checklist

CARD = [
    {"type": "header", "text": {"type": "plain_text", "text": "Disk full on web-1"}},
    {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": "*web-1* is at 97% — <https://runbooks.example/disk|runbook>",
        },
        "fields": [
            {"type": "mrkdwn", "text": "*Severity*\ncritical"},
            {"type": "mrkdwn", "text": "*Owner*\n<@U0ALICE>"},
        ],
    },
    {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "alertmanager"},
            {"type": "mrkdwn", "text": "prod"},
        ],
    },
    {"type": "divider"},
    {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "ack", "text": {"type": "plain_text", "text": "Ack"}},
            {
                "type": "button",
                "action_id": "open",
                "text": {"type": "plain_text", "text": "Grafana"},
                "url": "https://grafana.example",
            },
        ],
    },
]


def message(**overrides: object) -> EmulatedMessage:
    values: dict[str, object] = {
        "channel": "C0ALERTS",
        "ts": "1.000100",
        "text": "fallback",
        "user": "U0SEAWALLBOT",
        "blocks": CARD,
    }
    values.update(overrides)
    return EmulatedMessage(**values)  # type: ignore[arg-type]


def test_a_card_renders_its_header_fields_as_key_value_and_buttons_in_brackets() -> None:
    assert render_message(message()).splitlines() == [
        "Disk full on web-1",
        "*web-1* is at 97% — runbook (https://runbooks.example/disk)",
        "  Severity: critical",
        "  Owner: @U0ALICE",
        "alertmanager · prod",
        "─" * 40,
        "[Ack] [Grafana ↗]",
    ]


def test_thread_replies_are_indented_under_their_parent() -> None:
    reply = message(ts="1.000200", text="Acked by <@U0ALICE>", blocks=[], thread_ts="1.000100")
    lines = render_message(message(blocks=[], text="Disk full", replies=[reply])).splitlines()
    assert lines == ["Disk full", "    ↳ Acked by @U0ALICE"]


def test_edits_and_reactions_are_shown() -> None:
    rendered = render_message(message(blocks=[], edits=2, reactions={"eyes": ["U0ALICE", "U0BOB"]}))
    assert rendered.splitlines()[1:] == ["(edited)", ":eyes: 2"]


def test_an_api_shaped_message_dict_renders_too() -> None:
    api_message = {"text": "hi", "blocks": CARD[:1], "reactions": [{"name": "fire", "count": 3}]}
    assert render_message(api_message) == "Disk full on web-1\n:fire: 3"


def test_color_mode_makes_the_header_bold_and_context_dim() -> None:
    lines = render_message(message(), color=True).splitlines()
    assert lines[0] == "\x1b[1mDisk full on web-1\x1b[0m"
    assert lines[4] == "\x1b[2malertmanager · prod\x1b[0m"


def test_special_mentions_and_escaped_characters_become_readable() -> None:
    text = "&lt;!here&gt; <!here> <#C0ALERTS|alerts> <!subteam^S1|@oncall> a &amp; b"
    assert render_message(message(blocks=[], text=text)) == "<!here> @here #alerts @oncall a & b"


def test_attachment_blocks_are_drawn_with_a_bar() -> None:
    attachments = [{"color": "#d00", "blocks": [CARD[0]]}]
    assert (
        render_message(message(blocks=[], attachments=attachments))
        == "fallback\n│ Disk full on web-1"
    )


def header(text: str) -> dict[str, object]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def test_a_header_keeps_its_case() -> None:
    card = [header("🔴 ERROR · KeyError: 'cart_id'")]
    assert render_message(message(blocks=card)) == "🔴 ERROR · KeyError: 'cart_id'"


def checklist(*items: tuple[str, str | None]) -> dict[str, object]:
    """An actions block with one checkboxes element; (text, ticked by or None) per item."""
    options = [
        {
            "value": str(i),
            "text": {"type": "mrkdwn", "text": text},
            **({"description": {"type": "mrkdwn", "text": f"ticked by {by}"}} if by else {}),
        }
        for i, (text, by) in enumerate(items)
    ]
    ticked = [o for o, (_, by) in zip(options, items, strict=True) if by]
    element = {"type": "checkboxes", "action_id": "approval.checklist", "options": options}
    if ticked:
        element["initial_options"] = ticked
    return {"type": "actions", "elements": [element]}


def test_checklist_items_are_listed_with_their_ticked_state() -> None:
    card = [
        checklist(("Replica lag under 10 s?", "<@U0BOB>"), ("Backup &amp; restore tested?", None))
    ]
    assert render_message(message(blocks=card), users={"U0BOB": "bob"}).splitlines() == [
        "  ☑ Replica lag under 10 s? — ticked by @bob",
        "  ☐ Backup & restore tested?",
    ]


def test_people_are_shown_by_name_where_the_emulator_knows_them() -> None:
    text = "Acknowledged by <@U0ALICE>, asked by <@U0CAROL> in <#C0ALERTS>"
    rendered = render_message(
        message(blocks=[], text=text), users={"U0ALICE": "alice"}, channels={"C0ALERTS": "alerts"}
    )
    assert rendered == "Acknowledged by @alice, asked by @U0CAROL in #alerts"


def test_a_real_change_request_card_shows_its_checklist_in_the_terminal() -> None:
    approval = with_checklist("Replica lag under 10 s?", "Backup less than a day old?")
    approval.checklist[0].ticked_by = "U0BOB"
    blocks = [b.to_dict() for b in render(card_of(approval), T0).blocks]
    lines = render_blocks(blocks, users={"U0BOB": "bob", "U0ALICE": "alice"})
    assert "  ☑ Replica lag under 10 s? — ticked by @bob" in lines
    assert "  ☐ Backup less than a day old?" in lines
    assert lines[0] == "🔐 Change request · waiting for approval"
    assert any("@alice asked to change" in line for line in lines)


def test_the_emulator_names_its_people_and_channels_for_the_renderer() -> None:
    emulator = SlackEmulator(
        EmulatorConfig(channels={"C0ALERTS": "alerts"}, users={"U0ALICE": EmulatedUser("alice")})
    )
    assert emulator.user_names() == {"U0ALICE": "alice", "U0SEAWALLBOT": "seawall"}
    assert emulator.channel_names() == {"C0ALERTS": "alerts"}
