"""What a click, a pick or a modal submission becomes: the payload pieces Slack would send,
built from the stored element and the browser's numbers, never from the browser's values."""

from __future__ import annotations

from typing import Any

from bot.emulator.web import interact
from bot.emulator.web.state import WebState
from bot.emulator.web.viewer import Viewer

VIEWER = Viewer("U0ALICE", now=1_768_478_400.0, users={"U0ALICE": "alice", "U0BOB": "bob"})


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


MESSAGE: list[dict[str, Any]] = [
    {
        "type": "section",
        "block_id": "head",
        "text": {"type": "mrkdwn", "text": "x"},
        "accessory": {"type": "overflow", "action_id": "more", "options": [option("A", "a")]},
    },
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "alert.ack",
                "text": {"type": "plain_text", "text": "Acknowledge"},
                "value": '{"c":"card-1"}',
                "style": "primary",
            },
            {
                "type": "checkboxes",
                "action_id": "check",
                "options": [option("one", "0"), option("two", "1")],
            },
            {"type": "users_select", "action_id": "who"},
        ],
    },
]


def test_elements_are_found_by_their_place_only() -> None:
    assert interact.find_element(MESSAGE, [], "1.0") == (MESSAGE[1], MESSAGE[1]["elements"][0])
    assert interact.find_element(MESSAGE, [], "0.a") == (MESSAGE[0], MESSAGE[0]["accessory"])
    attachments = [{"blocks": MESSAGE}]
    assert interact.find_element([], attachments, "a0/1.2") is not None
    for gone in ("1.9", "7.0", "0.e", "a3/0.a", "1.0; drop", ""):
        assert interact.find_element(MESSAGE, attachments, gone) is None


def test_a_button_sends_its_value_text_and_style() -> None:
    action = interact.action_of(MESSAGE[1], MESSAGE[1]["elements"][0], "1.0", [], VIEWER)
    assert action["type"] == "button"
    assert action["action_id"] == "alert.ack"
    assert action["value"] == '{"c":"card-1"}'
    assert action["text"]["text"] == "Acknowledge"
    assert action["block_id"] == "emulated-1"  # Slack names blocks that came without an id
    assert action["style"] == "primary"


def test_picks_become_slacks_selected_fields() -> None:
    overflow = interact.action_of(MESSAGE[0], MESSAGE[0]["accessory"], "0.a", ["0"], VIEWER)
    assert overflow["selected_option"] == option("A", "a")
    boxes = interact.action_of(MESSAGE[1], MESSAGE[1]["elements"][1], "1.1", ["1", "9"], VIEWER)
    assert boxes["selected_options"] == [option("two", "1")]  # an unknown number is ignored
    who = interact.action_of(MESSAGE[1], MESSAGE[1]["elements"][2], "1.2", ["1"], VIEWER)
    assert who["selected_user"] == "U0BOB"


MODAL: dict[str, Any] = {
    "id": "V1",
    "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Type it"}},
        {
            "type": "input",
            "block_id": "typed",
            "label": {"type": "plain_text", "text": "Name"},
            "element": {"type": "plain_text_input", "action_id": "name"},
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "note"},
        },
    ],
}


def test_a_submission_carries_state_values_and_an_empty_required_input_stops_it() -> None:
    values, errors = interact.submission_values(MODAL, {"in:1": ["web-3"]}, VIEWER)
    assert values["typed"]["name"] == {"type": "plain_text_input", "value": "web-3"}
    assert values["note"]["note"] == {"type": "plain_text_input", "value": None}
    assert errors == {}
    _, errors = interact.submission_values(MODAL, {"in:1": ["  "]}, VIEWER)
    assert errors == {"typed": interact.REQUIRED}


def test_the_apps_errors_show_in_the_modal_with_what_was_typed() -> None:
    state = WebState()
    values, _ = interact.submission_values(MODAL, {"in:1": ["web-4"]}, VIEWER)
    answer = '{"response_action": "errors", "errors": {"typed": "Type web-3 exactly"}}'
    interact.apply_answer(state, MODAL, values, answer)
    assert state.view_errors["V1"] == {"typed": "Type web-3 exactly"}
    assert state.replaced["V1"]["blocks"][1]["element"]["initial_value"] == "web-4"
    assert "V1" not in state.closed_views


def test_an_update_replaces_the_modal_and_an_empty_answer_closes_it() -> None:
    state = WebState()
    update = '{"response_action": "update", "view": {"type": "modal", "blocks": []}}'
    interact.apply_answer(state, MODAL, {}, update)
    assert state.replaced["V1"] == {"type": "modal", "blocks": [], "id": "V1"}
    interact.apply_answer(state, MODAL, {}, "")
    assert "V1" in state.closed_views


def test_a_modal_is_shown_to_whoever_its_trigger_was_issued_for() -> None:
    state = WebState(trigger_users={"t-alice": "U0ALICE"})
    views = [{"id": "V1"}, {"id": "V2"}]
    triggers = {"V1": "t-alice", "V2": "t-unknown"}
    assert state.open_view(views, triggers, "U0ALICE") == {"id": "V1"}
    assert state.open_view(views, triggers, "U0BOB") is None
    state.close("V1")
    assert state.open_view(views, triggers, "U0ALICE") is None
