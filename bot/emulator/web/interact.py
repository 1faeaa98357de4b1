"""What a click, a pick, a typed command or a reaction in the browser makes Slack send the app.

Each turns into the signed request Slack would send (block_actions with a response_url and
trigger_id, a slash command, a reaction or message event, a view_submission), built and sent
by SlackSender: over the app's Socket Mode connection while it holds one, else to its
Request URL. The element acted on is looked up in the emulator's stored copy by its place
(element_html.py), so the payload carries what Slack would, whatever the browser sent.
Anything that goes wrong is told to the person on the page (state.notices), in words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from starlette.concurrency import run_in_threadpool

from bot.emulator.payloads import action_ts
from bot.emulator.sender import SlackSender
from bot.emulator.socket_mode import NoAck, NotConnected
from bot.emulator.web.emulated import Browsable
from bot.emulator.web.picks import as_dict, as_list, state_value
from bot.emulator.web.state import WebState
from bot.emulator.web.viewer import Viewer

REACTION_NAME = re.compile(r"^[a-z0-9_+\-']{1,100}$")
_LOC = re.compile(r"^(?:a(\d{1,3})/)?(\d{1,3})\.(\d{1,3}|a|e)$")
REQUIRED = "Please complete this required field."
NO_APP = (
    "Nothing was sent: no app is connected to this emulator. Start Seawall with "
    "SLACK_API_URL pointing here (seawall run), or run `seawall sandbox`."
)


class Unsent(Exception):
    """The request did not reach the app, or the app refused it; the message says which."""


def _sender(emu: Browsable, base_url: str) -> SlackSender:
    cfg = emu.config
    over_socket = emu.socket.connected
    if not over_socket and not cfg.request_url:
        raise Unsent(NO_APP)
    return SlackSender(
        bot_url=cfg.request_url or "",
        signing_secret=cfg.signing_secret or "",
        emulator=emu,
        emulator_url=base_url,
        socket_mode=over_socket,
    )


def _deliver(emu: Browsable, base_url: str, send: Callable[[SlackSender], httpx.Response]) -> str:
    """Send one request (in a worker thread: SlackSender blocks); the app's answer body."""
    try:
        with _sender(emu, base_url) as sender:
            response = send(sender)
    except httpx.HTTPError as exc:
        where = emu.config.request_url
        raise Unsent(f"Nothing reached the app at {where} ({exc}). Is Seawall running?") from exc
    except (NotConnected, NoAck) as exc:
        raise Unsent(f"The app did not take the request over Socket Mode: {exc}.") from exc
    if response.status_code != 200:
        raise Unsent(
            f"The app answered HTTP {response.status_code} ({response.text[:200]!r}); "
            "Slack would tell the person it failed."
        )
    return response.text


async def deliver(
    emu: Browsable,
    state: WebState,
    user: str,
    base_url: str,
    send: Callable[[SlackSender], httpx.Response],
) -> str | None:
    """Send and tell `user` how it went; the app's answer, or None when it did not arrive."""
    try:
        answer = await run_in_threadpool(_deliver, emu, base_url, send)
    except Unsent as exc:
        state.tell(user, str(exc))
        return None
    state.tell(user, None)
    return answer


def find_element(
    blocks: object, attachments: object, loc: str
) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """The (block, element) at `loc` ("3.1", "2.a", "a0/1.0"), or None."""
    found = _LOC.match(loc)
    if found is None:
        return None
    attachment, block_index, place = found.groups()
    layout = blocks
    if attachment is not None:
        atts = as_list(attachments)
        layout = as_dict(atts[int(attachment)]).get("blocks") if int(attachment) < len(atts) else []
    layout_blocks = as_list(layout)
    if int(block_index) >= len(layout_blocks):
        return None
    block = as_dict(layout_blocks[int(block_index)])
    if place == "a":
        element: object = block.get("accessory")
    elif place == "e":
        element = block.get("element")
    else:
        elements = as_list(block.get("elements"))
        element = elements[int(place)] if int(place) < len(elements) else None
    return (block, element) if isinstance(element, Mapping) else None


def action_of(
    block: Mapping[str, Any],
    element: Mapping[str, Any],
    loc: str,
    picks: Sequence[str],
    viewer: Viewer,
) -> dict[str, Any]:
    """The `actions[0]` Slack sends for this element and these picks."""
    kind = str(element.get("type"))
    action: dict[str, Any] = {
        "action_id": str(element.get("action_id") or f"emulated-{loc}"),
        "block_id": str(block.get("block_id") or f"emulated-{loc.split('.')[0]}"),
        "type": kind,
        "action_ts": action_ts(),
    }
    if kind in ("button", "workflow_button"):
        action["text"] = {"emoji": True, **as_dict(element.get("text"))}
        if "value" in element:
            action["value"] = element["value"]
        if element.get("style"):
            action["style"] = element["style"]
    else:
        action.update({k: v for k, v in state_value(element, picks, viewer).items() if k != "type"})
    return action


def message_action(
    sender: SlackSender,
    *,
    action: Mapping[str, Any],
    user: str,
    channel: str,
    ts: str,
    trigger_id: str,
    ephemeral: bool,
) -> httpx.Response:
    """block_actions for a message (or an ephemeral: no `message` copy, is_ephemeral)."""
    extra: dict[str, Any] = {"actions": [dict(action)]}
    if action["type"] not in ("button", "workflow_button"):
        values = {
            k: v for k, v in action.items() if k not in ("action_id", "block_id", "action_ts")
        }
        extra["state"] = {"values": {action["block_id"]: {action["action_id"]: values}}}
    if ephemeral:
        extra["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": True,
        }
    return sender.block_action(
        action_id=str(action["action_id"]),
        value=action.get("value"),
        user_id=user,
        channel_id=channel,
        message_ts=ts,
        block_id=str(action["block_id"]),
        trigger_id=trigger_id,
        **extra,
    )


def submission_values(
    view: Mapping[str, Any], form: Mapping[str, Sequence[str]], viewer: Viewer
) -> tuple[dict[str, Any], dict[str, str]]:
    """state.values of a modal from the browser's form, and the errors Slack's own client
    shows before sending anything (a required input left empty)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for i, block in enumerate(as_list(view.get("blocks"))):
        found = as_dict(block)
        element = as_dict(found.get("element"))
        if found.get("type") != "input" or not element:
            continue
        block_id = str(found.get("block_id") or f"emulated-{i}")
        action_id = str(element.get("action_id") or f"emulated-{i}.e")
        picks = list(form.get(f"in:{i}", []))
        if found.get("optional") is not True and not any(p.strip() for p in picks):
            errors[block_id] = REQUIRED
        values.setdefault(block_id, {})[action_id] = state_value(element, picks, viewer)
    return values, errors


def keep_typed(view: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """The view with what was typed in its text inputs kept, to show beside the app's errors
    (Slack keeps them too)."""
    blocks = []
    for i, block in enumerate(as_list(view.get("blocks"))):
        found = dict(as_dict(block))
        element = dict(as_dict(found.get("element")))
        block_id = str(found.get("block_id") or f"emulated-{i}")
        typed = as_dict(values.get(block_id))
        value = next((v.get("value") for v in typed.values() if isinstance(v, dict)), None)
        if found.get("type") == "input" and isinstance(value, str):
            element["initial_value"] = value
            found["element"] = element
        blocks.append(found)
    return {**view, "blocks": blocks}


def message_event(
    sender: SlackSender, *, channel: str, user: str, text: str, ts: str, thread_ts: str | None
) -> httpx.Response:
    """The Events API `message` event Slack sends when a person posts."""
    kind = {"D": "im", "G": "mpim"}.get(channel[:1], "channel")
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "channel_type": kind,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return sender.event(event)


def show_errors(
    state: WebState, view: Mapping[str, Any], values: Mapping[str, Any], errors: Mapping[str, str]
) -> None:
    """Errors under the inputs they are about, with what was typed kept."""
    view_id = str(view.get("id"))
    state.view_errors[view_id] = dict(errors)
    state.replaced[view_id] = keep_typed(view, values)
    state.changed()


def apply_answer(
    state: WebState, view: Mapping[str, Any], values: Mapping[str, Any], answer: str
) -> None:
    """What Slack does with the app's answer to a view_submission: show its errors, show the
    view it sends instead (update; a push is shown the same way), or close the modal."""
    try:
        body = json.loads(answer) if answer.strip() else {}
    except ValueError:
        body = {}
    found = as_dict(body)
    action = found.get("response_action")
    view_id = str(view.get("id"))
    errors = as_dict(found.get("errors"))
    if action == "errors" and errors:
        show_errors(state, view, values, {str(k): str(v) for k, v in errors.items()})
    elif action in ("update", "push") and isinstance(found.get("view"), Mapping):
        state.replaced[view_id] = {**found["view"], "id": view_id}
        state.view_errors.pop(view_id, None)
        state.changed()
    else:
        state.close(view_id)
