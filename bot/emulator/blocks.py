"""Block Kit validation with Slack's limits, as pure functions over dicts.

Each problem is reported the way Slack reports it in `invalid_blocks` answers:
``"<what is wrong> [json-pointer:/blocks/0/text/text]"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_ATTACHMENTS = 100
MAX_MESSAGE_TEXT = 40_000
# Text in all of a message's blocks. Undocumented: Slack answers `msg_blocks_too_long` from
# about 13,300 characters (slackapi/bolt-js#2509); its SDK team speaks of "12,000 text
# characters with a buffer for block containers" (#2867). Counted by blocks_text_length.
MAX_BLOCKS_TEXT = 12_000

_BUTTON_STYLES = {"primary", "danger"}
_SELECTS = {
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
}
_PICKERS = {"datepicker", "timepicker", "datetimepicker"}
_CHOICES = {"checkboxes", "radio_buttons"}
_TEXT_INPUTS = {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "rich_text_input",
    "file_input",
}
ACTIONS_ELEMENTS = {"button", "overflow", "workflow_button", *_SELECTS, *_PICKERS, *_CHOICES}
ACCESSORY_ELEMENTS = {"button", "overflow", "image", *_SELECTS, *_PICKERS, *_CHOICES}
INPUT_ELEMENTS = {*_SELECTS, *_PICKERS, *_CHOICES, *_TEXT_INPUTS}


def blocks_text_length(value: object) -> int:
    """Every string in the blocks except `type` names: a safe reading of what Slack counts."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(blocks_text_length(v) for k, v in value.items() if k != "type")
    if isinstance(value, list):
        return sum(blocks_text_length(v) for v in value)
    return 0


class _Checker:
    """Collects errors for one array of blocks; ids must be unique inside it."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()

    def fail(self, pointer: str, message: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def max_len(self, value: object, pointer: str, limit: int, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.fail(pointer, "missing required field")
            return
        if not isinstance(value, str):
            self.fail(pointer, "must be a string")
        elif len(value) > limit:
            self.fail(pointer, f"must be less than {limit + 1} characters")

    def text(
        self,
        obj: object,
        pointer: str,
        limit: int,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        """A composition text object: {type: plain_text|mrkdwn, text}."""
        if obj is None:
            if required:
                self.fail(pointer, "missing required field")
            return
        if not isinstance(obj, dict):
            self.fail(pointer, "must provide an object")
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.fail(f"{pointer}/type", f"must be one of {', '.join(allowed)}")
        text = obj.get("text")
        if not isinstance(text, str):
            self.fail(f"{pointer}/text", "must be a string")
        elif not text:
            self.fail(f"{pointer}/text", "must be more than 0 characters")
        elif len(text) > limit:
            self.fail(f"{pointer}/text", f"must be less than {limit + 1} characters")

    def items(self, value: object, pointer: str, limit: int, *, minimum: int = 1) -> list[Any]:
        """A list field with a size limit; returns the list (empty when wrong) for the caller."""
        if not isinstance(value, list):
            self.fail(pointer, "must provide an array")
            return []
        if len(value) > limit:
            self.fail(pointer, f"no more than {limit} items allowed")
        elif len(value) < minimum:
            self.fail(pointer, f"must provide at least {minimum} items")
        return value


def _confirm(c: _Checker, obj: object, pointer: str) -> None:
    if obj is None:
        return
    if not isinstance(obj, dict):
        c.fail(pointer, "must provide an object")
        return
    c.text(obj.get("title"), f"{pointer}/title", 100, plain_only=True)
    c.text(obj.get("text"), f"{pointer}/text", 300)
    c.text(obj.get("confirm"), f"{pointer}/confirm", 30, plain_only=True)
    c.text(obj.get("deny"), f"{pointer}/deny", 30, plain_only=True)


def _options(c: _Checker, options: object, pointer: str, limit: int) -> None:
    for i, option in enumerate(c.items(options, pointer, limit)):
        p = f"{pointer}/{i}"
        if not isinstance(option, dict):
            c.fail(p, "must provide an object")
            continue
        c.text(option.get("text"), f"{p}/text", 75)
        c.max_len(option.get("value"), f"{p}/value", 150, required=True)


def _element(
    c: _Checker, el: object, pointer: str, allowed: set[str], action_ids: set[str]
) -> None:
    """One block element; `action_ids` holds the ids already used in the containing block."""
    if not isinstance(el, dict):
        c.fail(pointer, "must provide an object")
        return
    kind = el.get("type")
    if kind not in allowed:
        c.fail(f"{pointer}/type", f"unsupported element type: {kind}")
        return
    action_id = el.get("action_id")
    if action_id is not None:
        c.max_len(action_id, f"{pointer}/action_id", 255)
        if isinstance(action_id, str):
            if action_id in action_ids:
                c.fail(f"{pointer}/action_id", f"duplicate action_id: {action_id}")
            action_ids.add(action_id)
    _confirm(c, el.get("confirm"), f"{pointer}/confirm")
    if kind == "button":
        c.text(el.get("text"), f"{pointer}/text", 75, plain_only=True)
        c.max_len(el.get("value"), f"{pointer}/value", 2000)
        c.max_len(el.get("url"), f"{pointer}/url", 3000)
        if "style" in el and el["style"] not in _BUTTON_STYLES:
            c.fail(f"{pointer}/style", "must be one of primary, danger")
    elif kind == "image":
        _image_fields(c, el, pointer)
    elif kind == "overflow":
        _options(c, el.get("options"), f"{pointer}/options", 5)
    elif kind in _SELECTS:
        c.text(el.get("placeholder"), f"{pointer}/placeholder", 150, required=False)
        if "options" in el:
            _options(c, el["options"], f"{pointer}/options", 100)
    elif kind in _CHOICES:
        _options(c, el.get("options"), f"{pointer}/options", 10)
    elif kind == "plain_text_input":
        c.text(el.get("placeholder"), f"{pointer}/placeholder", 150, required=False)
        max_length = el.get("max_length")
        if isinstance(max_length, int) and max_length > 3000:
            c.fail(f"{pointer}/max_length", "must be less than or equal to 3000")


def _image_fields(c: _Checker, obj: dict[str, Any], pointer: str) -> None:
    if "slack_file" not in obj:
        c.max_len(obj.get("image_url"), f"{pointer}/image_url", 3000, required=True)
    c.max_len(obj.get("alt_text"), f"{pointer}/alt_text", 2000, required=True)


def _section(c: _Checker, block: dict[str, Any], p: str) -> None:
    if "text" not in block and "fields" not in block:
        c.fail(p, "must provide either text or fields")
    c.text(block.get("text"), f"{p}/text", 3000, required=False)
    if "fields" in block:
        for i, f in enumerate(c.items(block["fields"], f"{p}/fields", 10)):
            c.text(f, f"{p}/fields/{i}", 2000)
    if "accessory" in block:
        _element(c, block["accessory"], f"{p}/accessory", ACCESSORY_ELEMENTS, set())


def _header(c: _Checker, block: dict[str, Any], p: str) -> None:
    c.text(block.get("text"), f"{p}/text", 150, plain_only=True)


def _context(c: _Checker, block: dict[str, Any], p: str) -> None:
    for i, el in enumerate(c.items(block.get("elements"), f"{p}/elements", 10)):
        ep = f"{p}/elements/{i}"
        if isinstance(el, dict) and el.get("type") == "image":
            _image_fields(c, el, ep)
        else:
            c.text(el, ep, 3000)


def _actions(c: _Checker, block: dict[str, Any], p: str) -> None:
    action_ids: set[str] = set()
    for i, el in enumerate(c.items(block.get("elements"), f"{p}/elements", 25)):
        _element(c, el, f"{p}/elements/{i}", ACTIONS_ELEMENTS, action_ids)


def _image(c: _Checker, block: dict[str, Any], p: str) -> None:
    _image_fields(c, block, p)
    c.text(block.get("title"), f"{p}/title", 2000, plain_only=True, required=False)


def _input(c: _Checker, block: dict[str, Any], p: str) -> None:
    c.text(block.get("label"), f"{p}/label", 2000, plain_only=True)
    c.text(block.get("hint"), f"{p}/hint", 2000, plain_only=True, required=False)
    if "element" not in block:
        c.fail(f"{p}/element", "missing required field")
    else:
        _element(c, block["element"], f"{p}/element", INPUT_ELEMENTS, set())


def _rich_text(c: _Checker, block: dict[str, Any], p: str) -> None:
    c.items(block.get("elements"), f"{p}/elements", 1000, minimum=0)


def _markdown(c: _Checker, block: dict[str, Any], p: str) -> None:
    c.max_len(block.get("text"), f"{p}/text", 12_000, required=True)


def _no_checks(c: _Checker, block: dict[str, Any], p: str) -> None:
    """Known block types whose content the emulator does not inspect."""


_BLOCK_CHECKS: dict[str, Callable[[_Checker, dict[str, Any], str], None]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "divider": _no_checks,
    "image": _image,
    "input": _input,
    "rich_text": _rich_text,
    "markdown": _markdown,
    "file": _no_checks,
    "video": _no_checks,
}
BLOCK_TYPES = frozenset(_BLOCK_CHECKS)  # every block type Slack (and so the emulator) accepts


def _check_blocks(c: _Checker, blocks: object, pointer: str, max_blocks: int) -> None:
    for i, block in enumerate(c.items(blocks, pointer, max_blocks, minimum=0)):
        p = f"{pointer}/{i}"
        if not isinstance(block, dict):
            c.fail(p, "must provide an object")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            c.max_len(block_id, f"{p}/block_id", 255)
            if isinstance(block_id, str):
                if block_id in c.block_ids:
                    c.fail(f"{p}/block_id", f"duplicate block_id: {block_id}")
                c.block_ids.add(block_id)
        check = _BLOCK_CHECKS.get(str(block.get("type")))
        if check is None:
            c.fail(f"{p}/type", f"unsupported block type: {block.get('type')}")
        else:
            check(c, block, p)


def validate_blocks(
    blocks: object, *, pointer: str = "/blocks", max_blocks: int = MAX_MESSAGE_BLOCKS
) -> list[str]:
    """Errors in one array of blocks (empty list when Slack would accept it)."""
    c = _Checker()
    _check_blocks(c, blocks, pointer, max_blocks)
    return c.errors


def validate_attachments(attachments: object) -> list[str]:
    """Errors in legacy attachments, whose `blocks` obey the same rules as a message's."""
    c = _Checker()
    for i, att in enumerate(c.items(attachments, "/attachments", MAX_ATTACHMENTS, minimum=0)):
        if not isinstance(att, dict):
            c.fail(f"/attachments/{i}", "must provide an object")
        elif "blocks" in att:
            # Each attachment is its own layout, so block ids only need to be unique inside it.
            errors = validate_blocks(att["blocks"], pointer=f"/attachments/{i}/blocks")
            c.errors.extend(errors)
    return c.errors


def validate_view(view: object) -> list[str]:
    """Errors in a modal view as views.open receives it."""
    c = _Checker()
    if not isinstance(view, dict):
        c.fail("/view", "must provide an object")
        return c.errors
    if view.get("type") != "modal":
        c.fail("/view/type", "must be modal")
    c.text(view.get("title"), "/view/title", 24, plain_only=True)
    c.text(view.get("submit"), "/view/submit", 24, plain_only=True, required=False)
    c.text(view.get("close"), "/view/close", 24, plain_only=True, required=False)
    c.max_len(view.get("callback_id"), "/view/callback_id", 255)
    c.max_len(view.get("private_metadata"), "/view/private_metadata", 3000)
    c.max_len(view.get("external_id"), "/view/external_id", 255)
    blocks = view.get("blocks")
    _check_blocks(c, blocks, "/view/blocks", MAX_MODAL_BLOCKS)
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if has_input and "submit" not in view:
        c.fail("/view/submit", "must provide submit when the view has input blocks")
    return c.errors
