"""The page: a sidebar of channels and DMs, a channel's messages (or one thread), the modal
the viewer has open, and the composer. Server-rendered from a `PageData` snapshot; page.js
only swaps in a fresh `#pane` when the emulator changes and sends the forms with fetch.

Every control is a plain form, so a click works without JavaScript too (the server then
answers with a redirect back to the page).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.models import EmulatedMessage, EphemeralMessage
from bot.emulator.web.block_html import blocks, message_body
from bot.emulator.web.element_html import Ctx, text_of
from bot.emulator.web.emoji import PICKER, emoji
from bot.emulator.web.html import Html, h, join
from bot.emulator.web.mrkdwn import plain
from bot.emulator.web.viewer import Viewer

ACT, REACT, SAY, SUBMIT, CLOSE = (
    "/_web/act",
    "/_web/react",
    "/_web/say",
    "/_web/submit",
    "/_web/close",
)


@dataclass(frozen=True)
class Conversation:
    channel_id: str
    label: str  # "#alerts", or the app's name for the viewer's DM with it
    is_dm: bool = False


@dataclass(frozen=True)
class PageData:
    """Everything one page shows, read from the emulator under its lock (routes.py)."""

    viewer: Viewer
    team_name: str
    bot_user_id: str
    people: Sequence[tuple[str, str]]  # (user id, name) for the "You are" picker
    conversations: Sequence[Conversation]
    channel: Conversation
    messages: Sequence[EmulatedMessage]  # top level, or [parent] in a thread
    ephemerals: Sequence[tuple[int, EphemeralMessage]]  # (index in the emulator, message)
    thread: str | None = None
    modal: Mapping[str, Any] | None = None
    modal_errors: Mapping[str, str] = field(default_factory=dict)
    notice: str | None = None
    version: str = "0"


def _hidden(name: str, value: str) -> Html:
    return h("input", {"type": "hidden", "name": name, "value": value})


def here(data: PageData) -> str:
    """This page's address (where a form without JavaScript comes back to)."""
    return data.viewer.page_url(data.channel.channel_id, data.thread)


def _time(data: PageData, epoch: float) -> Html:
    moment = data.viewer.local(epoch)
    return h("time", {"datetime": moment.isoformat()}, f"{moment:%H:%M}")


def _author(data: PageData, user: str) -> Html:
    name = h("span", {"class": "author"}, data.viewer.user_name(user))
    badge = h("span", {"class": "app"}, "APP") if user == data.bot_user_id else None
    return join([name, badge], " ")


def _reactions(data: PageData, message: EmulatedMessage) -> Html:
    """Reaction pills (pressing one adds or removes yours) and a picker for a new one."""
    me = data.viewer.user_id
    pills = []
    for name, users in message.reactions.items():
        mine = me in users
        attrs = {
            "type": "submit",
            "formaction": REACT,
            "name": "react",
            "value": name,
            "class": "pill mine" if mine else "pill",
            "aria-pressed": "true" if mine else "false",
            "title": f":{name}: " + ", ".join(data.viewer.user_name(u) for u in users),
        }
        pills.append(h("button", attrs, f"{emoji(name)} {len(users)}"))
    choices = [
        h(
            "button",
            {"type": "submit", "formaction": REACT, "name": "react", "value": name, "title": name},
            emoji(name),
        )
        for name in PICKER
    ]
    picker = h(
        "details",
        {"class": "react-picker"},
        h("summary", {"aria-label": "Add reaction", "title": "Add reaction"}, "☺+"),
        h("div", {"class": "react-choices"}, *choices),
    )
    return h("div", {"class": "reactions"}, *pills, picker)


def _message(data: PageData, message: EmulatedMessage, *, replies_link: bool) -> Html:
    ctx = Ctx(data.viewer)
    content = {"blocks": message.blocks, "text": message.text, "attachments": message.attachments}
    edited = h("span", {"class": "edited"}, "(edited)") if message.edits else None
    form = h(
        "form",
        {"class": "msg-form", "method": "post", "action": ACT},
        _hidden("as", data.viewer.user_id),
        _hidden("where", f"m:{message.channel}:{message.ts}"),
        _hidden("back", here(data)),
        message_body(content, ctx),
        edited,
        _reactions(data, message),
    )
    footer = None
    if replies_link and message.replies:
        count = len(message.replies)
        label = f"{count} repl{'y' if count == 1 else 'ies'}"
        url = data.viewer.page_url(message.channel, message.ts)
        footer = h("a", {"class": "replies", "href": url}, label)
    meta = h(
        "div", {"class": "meta"}, _author(data, message.user), " ", _time(data, float(message.ts))
    )
    attrs = {"class": "msg", "id": f"m{message.ts}", "data-ts": message.ts}
    return h("li", attrs, meta, form, footer)


def _ephemeral(data: PageData, index: int, message: EphemeralMessage) -> Html:
    ctx = Ctx(data.viewer)
    form = h(
        "form",
        {"class": "msg-form", "method": "post", "action": ACT},
        _hidden("as", data.viewer.user_id),
        _hidden("where", f"e:{index}"),
        _hidden("back", here(data)),
        message_body({"blocks": message.blocks, "text": message.text}, ctx),
    )
    only = h("span", {"class": "only-you"}, "Only visible to you")
    meta = h(
        "div",
        {"class": "meta"},
        _author(data, data.bot_user_id),
        " ",
        _time(data, message.at),
        " ",
        only,
    )
    return h("li", {"class": "msg ephemeral"}, meta, form)


def _timeline(data: PageData) -> Html:
    """Messages and the viewer's ephemerals in the order they arrived."""
    items: list[tuple[float, Html]] = []
    if data.thread is None:
        for m in data.messages:
            items.append((float(m.ts), _message(data, m, replies_link=True)))
    else:
        for parent in data.messages:
            items.append((float(parent.ts), _message(data, parent, replies_link=False)))
            items += [(float(r.ts), _message(data, r, replies_link=False)) for r in parent.replies]
    items += [(e.at, _ephemeral(data, i, e)) for i, e in data.ephemerals]
    items.sort(key=lambda item: item[0])
    if not items:
        return h("p", {"class": "empty"}, "No messages yet.")
    return h("ol", {"class": "messages"}, *(html for _, html in items))


def _modal(data: PageData) -> Html | None:
    view = data.modal
    if view is None:
        return None
    view_id = str(view.get("id"))
    # Buttons inside a modal are shown but do not send (not emulated); its inputs take input.
    ctx = Ctx(data.viewer, live=False, errors=data.modal_errors)
    submit_label = text_of(view.get("submit")) or "Submit"
    close_label = text_of(view.get("close")) or "Cancel"
    buttons = h(
        "div",
        {"class": "modal-buttons"},
        h("button", {"type": "submit", "formaction": CLOSE, "class": "btn"}, close_label),
        h("button", {"type": "submit", "class": "btn btn-primary"}, submit_label)
        if view.get("submit")
        else None,
    )
    form = h(
        "form",
        {
            "class": "modal",
            "method": "post",
            "action": SUBMIT,
            "role": "dialog",
            "aria-modal": "true",
        },
        _hidden("as", data.viewer.user_id),
        _hidden("view", view_id),
        _hidden("back", here(data)),
        h("h2", {"class": "modal-title"}, plain(text_of(view.get("title")))),
        h("div", {"class": "modal-body"}, blocks(view.get("blocks"), ctx)),
        buttons,
    )
    key = f"{view_id}:{len(data.modal_errors)}:{sorted(data.modal_errors.items())}"
    return h("div", {"class": "modal-backdrop", "data-key": key}, form)


def pane(data: PageData) -> Html:
    """The part page.js refreshes: title, notice, messages, modal."""
    title = data.channel.label
    back = None
    if data.thread is not None:
        title = f"Thread in {data.channel.label}"
        back = h(
            "a", {"class": "back", "href": data.viewer.page_url(data.channel.channel_id)}, "← back"
        )
    notice = h("div", {"class": "notice", "role": "status"}, data.notice) if data.notice else None
    return h(
        "main",
        {"id": "pane", "data-version": data.version},
        h("div", {"class": "pane-head"}, back, h("h2", None, title)),
        notice,
        _timeline(data),
        _modal(data),
    )
