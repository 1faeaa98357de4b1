"""The page's renderer and the emulator's Block Kit validator agree: whatever the emulator
accepts (so whatever Seawall can post) renders, without raising, with its text on the page,
and with no markup that did not come from the renderer itself."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.emulator.blocks import (
    ACCESSORY_ELEMENTS,
    ACTIONS_ELEMENTS,
    BLOCK_TYPES,
    INPUT_ELEMENTS,
    validate_attachments,
    validate_blocks,
    validate_view,
)
from bot.emulator.web.block_html import BLOCKS, message_body
from bot.emulator.web.element_html import Ctx
from bot.emulator.web.page import Conversation, PageData, pane
from bot.emulator.web.viewer import Viewer

from .parsed import markup_problems, parse

VIEWER = Viewer("U0ALICE", now=1_768_478_400.0, users={"U0ALICE": "alice"}, channels={})
CTX = Ctx(VIEWER)
WORD = "Marker"  # the text each example must show


def plain(text: str = WORD) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text), "value": value}


def element_example(kind: str) -> dict[str, Any]:
    """A minimal valid element of each type, whose text (if it has one) is WORD."""
    examples: dict[str, dict[str, Any]] = {
        "button": {"text": plain(), "value": "v"},
        "workflow_button": {"text": plain()},
        "overflow": {"options": [option(WORD, "1"), option("Other", "2")]},
        "image": {"image_url": "https://example.net/x.png", "alt_text": WORD},
        "checkboxes": {"options": [option(WORD, "1")]},
        "radio_buttons": {"options": [option(WORD, "1")]},
        "datepicker": {"initial_date": "2026-01-15", "placeholder": plain()},
        "timepicker": {"initial_time": "03:12", "placeholder": plain()},
        "datetimepicker": {"initial_date_time": 1_768_478_400},
    }
    if kind.endswith("_select"):
        found = {"placeholder": plain(), "options": [option(WORD, "1")]}
        if kind in ("static_select", "multi_static_select"):
            return {"type": kind, "action_id": kind, **found}
        return {"type": kind, "action_id": kind, "placeholder": plain()}
    extra = examples.get(kind, {"placeholder": plain()})  # the text inputs
    return {"type": kind, "action_id": kind, **extra}


def block_examples() -> dict[str, dict[str, Any]]:
    section_text = {"type": "mrkdwn", "text": f"*{WORD}*"}
    return {
        "section": {"type": "section", "text": section_text, "fields": [plain()]},
        "header": {"type": "header", "text": plain()},
        "context": {"type": "context", "elements": [plain()]},
        "actions": {"type": "actions", "elements": [element_example("button")]},
        "divider": {"type": "divider"},
        "image": {"type": "image", "image_url": "https://e.net/i.png", "alt_text": WORD},
        "input": {
            "type": "input",
            "label": plain(),
            "element": element_example("plain_text_input"),
        },
        "rich_text": {
            "type": "rich_text",
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": WORD}]}
            ],
        },
        "markdown": {"type": "markdown", "text": f"**{WORD}**"},
        "file": {"type": "file", "external_id": WORD, "source": "remote"},
        "video": {
            "type": "video",
            "title": plain(),
            "video_url": "https://e.net/v",
            "thumbnail_url": "https://e.net/t.png",
            "alt_text": "a video",
        },
    }


def rendered(blocks: list[dict[str, Any]]) -> str:
    return message_body({"blocks": blocks}, CTX)


def test_the_renderer_knows_every_block_type_the_validator_accepts() -> None:
    assert set(BLOCKS) == set(BLOCK_TYPES)
    assert set(block_examples()) == set(BLOCK_TYPES)


@pytest.mark.parametrize("kind", sorted(BLOCK_TYPES))
def test_each_block_type_renders_its_text(kind: str) -> None:
    blocks = [block_examples()[kind]]
    assert validate_blocks(blocks) == []
    html = rendered(blocks)
    assert markup_problems(html) == []
    if kind != "divider":
        assert WORD in parse(html).text


@pytest.mark.parametrize(
    ("context", "kind"),
    [("actions", k) for k in sorted(ACTIONS_ELEMENTS)]
    + [("accessory", k) for k in sorted(ACCESSORY_ELEMENTS)]
    + [("input", k) for k in sorted(INPUT_ELEMENTS)],
)
def test_each_element_renders_where_the_validator_allows_it(context: str, kind: str) -> None:
    element = element_example(kind)
    block: dict[str, Any] = {
        "actions": {"type": "actions", "elements": [element]},
        "accessory": {"type": "section", "text": plain("x"), "accessory": element},
        "input": {"type": "input", "label": plain("x"), "element": element},
    }[context]
    assert validate_blocks([block]) == []
    html = rendered([block])
    assert markup_problems(html) == []
    if kind != "datetimepicker":  # it has no text of its own
        assert WORD in parse(html).text, html


# --- any accepted shape -----------------------------------------------------------------------
WORDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 .,!?()-]{0,30}", fullmatch=True)
HOSTILE = st.text(min_size=1, max_size=40) | st.sampled_from(
    ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<javascript:alert(1)|x>"]
)
URLS = st.sampled_from(
    ["https://example.net/a?b=1&c=2", "javascript:alert(1)", "data:text/html,x", "//x", " "]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


def text_object(
    text: st.SearchStrategy[str], *, plain_only: bool = False
) -> st.SearchStrategy[Any]:
    kinds = ["plain_text"] if plain_only else ["plain_text", "mrkdwn"]
    return st.builds(
        lambda t, k, e: {"type": k, "text": t, **({} if e is None else {"emoji": e})},
        text,
        st.sampled_from(kinds),
        st.none() | st.booleans(),
    )


def options(text: st.SearchStrategy[str], most: int) -> st.SearchStrategy[Any]:
    return st.lists(
        st.builds(lambda t, v: {"text": t, "value": v}, text_object(text), st.text(max_size=20)),
        min_size=1,
        max_size=most,
    )


def elements(text: st.SearchStrategy[str], kinds: set[str]) -> st.SearchStrategy[Any]:
    """Any element of these kinds, with the fields the validator checks kept within its
    limits, plus fields it does not check set to anything at all."""
    loose = st.dictionaries(
        st.sampled_from(["initial_option", "initial_options", "option_groups", "initial_value",
                         "initial_date", "initial_date_time", "max_length", "multiline",
                         "is_decimal_allowed", "initial_user", "style_extra"]),
        JSON,
        max_size=3,
    )  # fmt: skip

    def build(kind: str, label: Any, opts: Any, url: str, extra: dict[str, Any]) -> Any:
        found: dict[str, Any] = {**extra, "type": kind}
        if kind in ("button", "workflow_button"):
            found.update(text=label, url=url)
        elif kind == "image":
            found.update(image_url=url, alt_text=label["text"])
        elif kind in ("overflow", "checkboxes", "radio_buttons"):
            found["options"] = opts[:5]
        elif kind in ("static_select", "multi_static_select"):
            found.update(options=opts[:5], placeholder=label)
        else:
            found["placeholder"] = label
        return found

    return st.builds(
        build,
        st.sampled_from(sorted(kinds)),
        text_object(text, plain_only=True),
        options(text, 5),
        URLS,
        loose,
    )


def blocks(text: st.SearchStrategy[str]) -> st.SearchStrategy[list[Any]]:
    block = st.one_of(
        st.builds(
            lambda t, f, a: {"type": "section", "text": t, "fields": f, "accessory": a},
            text_object(text),
            st.lists(text_object(text), min_size=1, max_size=4),
            elements(text, ACCESSORY_ELEMENTS),
        ),
        st.builds(lambda t: {"type": "header", "text": t}, text_object(text, plain_only=True)),
        st.builds(
            lambda e: {"type": "context", "elements": e},
            st.lists(text_object(text), min_size=1, max_size=4),
        ),
        st.builds(
            lambda e: {"type": "actions", "elements": e},
            st.lists(elements(text, ACTIONS_ELEMENTS), min_size=1, max_size=5),
        ),
        st.just({"type": "divider"}),
        st.builds(
            lambda label, e: {"type": "input", "label": label, "element": e},
            text_object(text, plain_only=True),
            elements(text, INPUT_ELEMENTS),
        ),
        st.builds(lambda j: {"type": "rich_text", "elements": j}, st.lists(JSON, max_size=4)),
        st.builds(lambda t: {"type": "markdown", "text": t}, text),
        st.builds(lambda j: {"type": "file", **j}, st.dictionaries(st.text(max_size=8), JSON)),
        st.builds(lambda j: {"type": "video", **j}, st.dictionaries(st.text(max_size=8), JSON)),
    )
    return st.lists(block, min_size=1, max_size=6)


def texts_in(value: Any) -> list[str]:
    """Every text object's text in a block tree."""
    if isinstance(value, dict):
        own = [value["text"]] if value.get("type") in ("plain_text", "mrkdwn") else []
        return own + [t for v in value.values() for t in texts_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in texts_in(v)]
    return []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks(HOSTILE))
def test_anything_accepted_renders_without_foreign_markup(generated: list[Any]) -> None:
    with_ids = _unique_action_ids(generated)
    assume(validate_blocks(with_ids) == [])
    assert markup_problems(rendered(with_ids)) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks(WORDS))
def test_anything_accepted_shows_all_its_text(generated: list[Any]) -> None:
    with_ids = _unique_action_ids(generated)
    assume(validate_blocks(with_ids) == [])
    shown = parse(rendered(with_ids)).text
    for text in texts_in(with_ids):
        assert " ".join(text.split()) in shown


def attachments(text: st.SearchStrategy[str]) -> st.SearchStrategy[list[Any]]:
    """Legacy attachments: blocks (checked like a message's), or the old fields (which the
    validator leaves alone, so they may hold anything)."""
    with_blocks = st.builds(
        lambda b, c: {"blocks": _unique_action_ids(b), "color": c},
        blocks(text),
        st.sampled_from(["good", "warning", "danger", "#36a64f", None]),
    )
    old_fields = st.fixed_dictionaries(
        {},
        optional={
            key: text | JSON for key in ("pretext", "title", "text", "fallback", "color", "fields")
        },
    )
    return st.lists(with_blocks | old_fields, min_size=1, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(attachments(HOSTILE))
def test_any_accepted_attachment_renders_without_foreign_markup(found: list[Any]) -> None:
    assume(validate_attachments(found) == [])
    assert markup_problems(message_body({"attachments": found}, CTX)) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(attachments(WORDS))
def test_an_accepted_attachment_shows_the_text_of_its_blocks(found: list[Any]) -> None:
    assume(validate_attachments(found) == [])
    shown = parse(message_body({"attachments": found}, CTX)).text
    for att in found:
        for text in texts_in(att.get("blocks", [])):
            assert " ".join(text.split()) in shown


def modal_page(view: dict[str, Any]) -> str:
    """The page's pane with `view` open, as page.py renders it for the viewer."""
    alerts = Conversation("C0ALERTS", "#alerts")
    data = PageData(
        viewer=VIEWER,
        team_name="T",
        bot_user_id="U0BOT",
        people=[("U0ALICE", "alice")],
        conversations=[alerts],
        channel=alerts,
        messages=[],
        ephemerals=[],
        modal={"id": "V0001", **view},
    )
    return pane(data)


def views(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda title, b, submit, close: {
            "type": "modal",
            "title": title,
            "blocks": _unique_action_ids(b),
            **({} if submit is None else {"submit": submit}),
            **({} if close is None else {"close": close}),
        },
        text_object(text, plain_only=True),
        blocks(text),
        st.none() | text_object(text, plain_only=True),
        st.none() | text_object(text, plain_only=True),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(views(HOSTILE))
def test_any_accepted_modal_renders_without_foreign_markup(view: dict[str, Any]) -> None:
    assume(validate_view(view) == [])
    # The pane and the modal's frame (a form, its title, its buttons) use more markup than a
    # message; whatever the view holds must add none of it.
    x = plain("x")
    frame = {**view, "title": x, "blocks": []}
    frame.update({k: x for k in ("submit", "close") if k in view})
    found = Counter(markup_problems(modal_page(view)))
    assert found == Counter(markup_problems(modal_page(frame)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(views(WORDS))
def test_an_accepted_modal_shows_its_title_buttons_and_blocks(view: dict[str, Any]) -> None:
    assume(validate_view(view) == [])
    shown = parse(modal_page(view)).text
    for text in texts_in(view):
        assert " ".join(text.split()) in shown


def _unique_action_ids(blocks: list[Any]) -> list[Any]:
    """Give each element an action_id, unique as Slack requires within a block."""
    for i, block in enumerate(blocks):
        for j, element in enumerate(block.get("elements", [])):
            if isinstance(element, dict) and element.get("type") not in ("plain_text", "mrkdwn"):
                element["action_id"] = f"a{i}.{j}"
    return blocks
