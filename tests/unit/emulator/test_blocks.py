"""Block Kit validation: each of Slack's limits, reported with Slack's json-pointer style."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.emulator.blocks import validate_attachments, validate_blocks, validate_view


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def button(action_id: str = "ack", **overrides: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain("Ack"), "action_id": action_id, **overrides}


def actions(*elements: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements), **overrides}


CARD = [
    {"type": "header", "text": plain("Disk full on web-1")},
    {
        "type": "section",
        "text": mrkdwn("*web-1* is at 97%"),
        "fields": [mrkdwn("*Severity*\ncritical"), mrkdwn("*Since*\n12:00")],
        "accessory": button("runbook", url="https://runbooks.example/disk"),
    },
    {
        "type": "context",
        "elements": [
            mrkdwn("alertmanager · prod"),
            {"type": "image", "image_url": "https://x/i.png", "alt_text": "icon"},
        ],
    },
    {"type": "divider"},
    actions(button("ack", value='{"card":"1"}', style="primary"), button("silence")),
    {"type": "image", "image_url": "https://x/graph.png", "alt_text": "CPU graph"},
    {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "hi"}]}],
    },
    {
        "type": "input",
        "label": plain("Reason"),
        "element": {"type": "plain_text_input", "action_id": "why"},
    },
]


def only_error(blocks: Any, **kwargs: Any) -> str:
    errors = validate_blocks(blocks, **kwargs)
    assert len(errors) == 1, errors
    return errors[0]


def test_a_well_formed_card_has_no_errors() -> None:
    assert validate_blocks(CARD) == []


def test_more_than_50_blocks_in_a_message_is_invalid() -> None:
    assert validate_blocks([{"type": "divider"}] * 50) == []
    assert only_error([{"type": "divider"}] * 51).endswith("[json-pointer:/blocks]")


def test_a_modal_may_hold_100_blocks_but_not_101() -> None:
    view = {"type": "modal", "title": plain("Silence"), "blocks": [{"type": "divider"}] * 100}
    assert validate_view(view) == []
    assert validate_view({**view, "blocks": [{"type": "divider"}] * 101}) != []


def test_section_text_over_3000_characters_points_at_the_text() -> None:
    error = only_error([{"type": "section", "text": mrkdwn("x" * 3001)}])
    assert error == "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"


def test_a_section_without_text_or_fields_is_invalid() -> None:
    assert "/blocks/0" in only_error([{"type": "section"}])


def test_more_than_10_section_fields_is_invalid() -> None:
    error = only_error([{"type": "section", "fields": [mrkdwn("f")] * 11}])
    assert error.endswith("[json-pointer:/blocks/0/fields]")


def test_a_section_field_over_2000_characters_is_invalid() -> None:
    error = only_error([{"type": "section", "fields": [mrkdwn("ok"), mrkdwn("x" * 2001)]}])
    assert error.endswith("[json-pointer:/blocks/0/fields/1/text]")


def test_header_text_over_150_characters_is_invalid() -> None:
    assert validate_blocks([{"type": "header", "text": plain("x" * 150)}]) == []
    error = only_error([{"type": "header", "text": plain("x" * 151)}])
    assert error.endswith("[json-pointer:/blocks/0/text/text]")


def test_header_text_must_be_plain_text() -> None:
    error = only_error([{"type": "header", "text": mrkdwn("*bold*")}])
    assert error.endswith("[json-pointer:/blocks/0/text/type]")


def test_empty_text_is_invalid() -> None:
    assert "more than 0 characters" in only_error([{"type": "section", "text": mrkdwn("")}])


def test_context_with_more_than_10_elements_is_invalid() -> None:
    error = only_error([{"type": "context", "elements": [mrkdwn("c")] * 11}])
    assert error.endswith("[json-pointer:/blocks/0/elements]")


def test_actions_with_more_than_25_elements_is_invalid() -> None:
    buttons = [button(f"b{i}") for i in range(26)]
    assert only_error([actions(*buttons)]).endswith("[json-pointer:/blocks/0/elements]")


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("text", plain("x" * 76), "/blocks/0/elements/0/text/text"),
        ("value", "x" * 2001, "/blocks/0/elements/0/value"),
        ("url", "https://x/" + "x" * 2991, "/blocks/0/elements/0/url"),
        ("action_id", "x" * 256, "/blocks/0/elements/0/action_id"),
        ("style", "loud", "/blocks/0/elements/0/style"),
    ],
)
def test_button_limits_are_enforced(field: str, value: Any, pointer: str) -> None:
    assert only_error([actions(button(**{field: value}))]).endswith(f"[json-pointer:{pointer}]")


def test_button_text_must_be_plain_text() -> None:
    error = only_error([actions(button(text=mrkdwn("Ack")))])
    assert error.endswith("[json-pointer:/blocks/0/elements/0/text/type]")


def test_block_id_over_255_characters_is_invalid() -> None:
    error = only_error([{"type": "divider", "block_id": "b" * 256}])
    assert error.endswith("[json-pointer:/blocks/0/block_id]")


def test_duplicate_block_ids_in_a_message_are_invalid() -> None:
    blocks = [{"type": "divider", "block_id": "same"}, {"type": "divider", "block_id": "same"}]
    assert only_error(blocks).endswith("[json-pointer:/blocks/1/block_id]")


def test_duplicate_action_ids_in_one_block_are_invalid() -> None:
    error = only_error([actions(button("ack"), button("ack"))])
    assert error.endswith("[json-pointer:/blocks/0/elements/1/action_id]")


def test_the_same_action_id_in_two_blocks_is_allowed() -> None:
    # Slack's rule is per containing block; cards repeat e.g. "alert.ack" per alert row.
    assert validate_blocks([actions(button("ack")), actions(button("ack"))]) == []


def test_an_unknown_block_type_is_invalid() -> None:
    assert only_error([{"type": "carousel"}]).endswith("[json-pointer:/blocks/0/type]")


def test_an_element_not_allowed_in_actions_is_invalid() -> None:
    field = {"type": "plain_text_input", "action_id": "x"}
    assert only_error([actions(field)]).endswith("[json-pointer:/blocks/0/elements/0/type]")


def test_an_image_needs_alt_text() -> None:
    error = only_error([{"type": "image", "image_url": "https://x/i.png"}])
    assert error.endswith("[json-pointer:/blocks/0/alt_text]")


def test_blocks_must_be_a_list_of_objects() -> None:
    assert validate_blocks({"type": "divider"}) != []
    assert only_error(["divider"]).endswith("[json-pointer:/blocks/0]")


def test_blocks_inside_attachments_are_validated_with_their_own_pointer() -> None:
    attachments = [{"color": "good"}, {"blocks": [{"type": "header", "text": plain("x" * 151)}]}]
    [error] = validate_attachments(attachments)
    assert error.endswith("[json-pointer:/attachments/1/blocks/0/text/text]")


def test_a_modal_title_over_24_characters_is_invalid() -> None:
    view = {"type": "modal", "title": plain("x" * 25), "blocks": []}
    [error] = validate_view(view)
    assert error.endswith("[json-pointer:/view/title/text]")


def test_a_modal_with_inputs_needs_a_submit_button() -> None:
    view = {"type": "modal", "title": plain("Silence"), "blocks": [CARD[-1]]}
    assert validate_view(view) != []
    assert validate_view({**view, "submit": plain("Silence")}) == []


@settings(max_examples=40)
@given(st.integers(min_value=0, max_value=3100))
def test_section_text_is_valid_exactly_from_1_to_3000_characters(length: int) -> None:
    errors = validate_blocks([{"type": "section", "text": mrkdwn("x" * length)}])
    assert (errors == []) == (1 <= length <= 3000)


@settings(max_examples=40)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=6))
def test_block_ids_are_valid_exactly_when_unique(ids: list[str]) -> None:
    blocks = [{"type": "divider", "block_id": i} for i in ids]
    assert (validate_blocks(blocks) == []) == (len(set(ids)) == len(ids))
