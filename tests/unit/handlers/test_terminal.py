"""What `seawall sandbox` and `seawall emulator` print: channel cards, DMs and ephemerals as
they arrive, each said where it is and who sees it."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.emulator import EmulatedUser, EmulatorConfig, SlackEmulator
from handlers.terminal import TerminalView
from tests.support.servers import ServerThread


def test_cards_dms_and_ephemerals_are_printed_with_where_they_are() -> None:
    emulator = SlackEmulator(
        EmulatorConfig(
            bot_token="xoxb-t",
            channels={"C0ALERTS": "alerts"},
            users={"U0ALICE": EmulatedUser(name="alice")},
        )
    )
    printed: list[str] = []
    view = TerminalView(emulator, printed.append, color=False)
    with ServerThread(emulator.app) as server:
        slack = WebClient(token="xoxb-t", base_url=f"{server.url}/api/")
        slack.chat_postMessage(channel="C0ALERTS", text="Disk full on db-1")
        dm = slack.conversations_open(users="U0ALICE")["channel"]["id"]
        slack.chat_postMessage(channel=dm, text="Step back before: drain web-3")
        slack.chat_postEphemeral(channel="C0ALERTS", user="U0ALICE", text="Only <@U0ALICE>")
    view.show_new_ephemerals()
    text = "\n".join(printed)
    assert "── #alerts · new message" in text
    assert "Disk full on db-1" in text
    assert "── DM with @alice · new message" in text
    assert "Step back before: drain web-3" in text
    assert "── only @alice sees, in #alerts" in text
    view.show_new_ephemerals()  # nothing new: nothing printed twice
    assert "\n".join(printed).count("only @alice sees") == 1


def test_mentions_are_printed_with_the_names_the_emulator_knows() -> None:
    emulator = SlackEmulator(
        EmulatorConfig(
            bot_token="xoxb-t",
            channels={"C0ALERTS": "alerts"},
            users={"U0ALICE": EmulatedUser(name="alice")},
        )
    )
    printed: list[str] = []
    view = TerminalView(emulator, printed.append, color=False)
    with ServerThread(emulator.app) as server:
        slack = WebClient(token="xoxb-t", base_url=f"{server.url}/api/")
        slack.chat_postMessage(channel="C0ALERTS", text="Acked by <@U0ALICE> in <#C0ALERTS>")
        slack.chat_postEphemeral(channel="C0ALERTS", user="U0ALICE", text="Only <@U0ALICE>")
    view.show_new_ephemerals()
    text = "\n".join(printed)
    assert "Acked by @alice in #alerts" in text
    assert "Only @alice" in text
