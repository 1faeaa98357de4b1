"""render_message: a card as a newcomer reads it in the sandbox terminal."""

from __future__ import annotations

from bot.emulator import EmulatedMessage, render_message

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


def test_a_card_renders_header_in_caps_fields_as_key_value_and_buttons_in_brackets() -> None:
    assert render_message(message()).splitlines() == [
        "DISK FULL ON WEB-1",
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
    assert render_message(api_message) == "DISK FULL ON WEB-1\n:fire: 3"


def test_color_mode_makes_the_header_bold_and_context_dim() -> None:
    lines = render_message(message(), color=True).splitlines()
    assert lines[0] == "\x1b[1mDISK FULL ON WEB-1\x1b[0m"
    assert lines[4] == "\x1b[2malertmanager · prod\x1b[0m"


def test_special_mentions_and_escaped_characters_become_readable() -> None:
    text = "&lt;!here&gt; <!here> <#C0ALERTS|alerts> <!subteam^S1|@oncall> a &amp; b"
    assert render_message(message(blocks=[], text=text)) == "<!here> @here #alerts @oncall a & b"


def test_attachment_blocks_are_drawn_with_a_bar() -> None:
    attachments = [{"color": "#d00", "blocks": [CARD[0]]}]
    assert (
        render_message(message(blocks=[], attachments=attachments))
        == "fallback\n│ DISK FULL ON WEB-1"
    )
