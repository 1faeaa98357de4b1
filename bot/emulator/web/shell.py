"""The document around the pane: head, the sidebar of channels and DMs, the "You are" picker
and the composer. On a phone the sidebar folds into a menu at the top (page.css)."""

from __future__ import annotations

from bot.emulator.web.html import Html, h, join
from bot.emulator.web.page import SAY, PageData, here, pane

CSS = "/_web/static/page.css"
JS = "/_web/static/page.js"


def _sidebar(data: PageData, element_id: str) -> Html:
    def entry(channel_id: str, label: str) -> Html:
        current = channel_id == data.channel.channel_id
        attrs = {
            "href": data.viewer.page_url(channel_id),
            "aria-current": "page" if current else None,
        }
        return h("li", None, h("a", attrs, label))

    channels = [entry(c.channel_id, c.label) for c in data.conversations if not c.is_dm]
    dms = [entry(c.channel_id, c.label) for c in data.conversations if c.is_dm]
    return h(
        "nav",
        # page.js refreshes it (by id) with the pane: a new incident channel shows up.
        {"class": "sidebar", "id": element_id, "aria-label": "Channels and direct messages"},
        h("h2", None, "Channels"),
        h("ul", None, *channels),
        h("h2", None, "Direct messages"),
        h("ul", None, *dms),
    )


def _who(data: PageData) -> Html:
    """Whose eyes the page shows, and whose clicks it sends: any emulated person."""
    options = [
        h("option", {"value": uid, "selected": uid == data.viewer.user_id}, name)
        for uid, name in data.people
    ]
    return h(
        "form",
        {"class": "who", "method": "get", "action": "/"},
        h("input", {"type": "hidden", "name": "c", "value": data.channel.channel_id}),
        h(
            "label",
            None,
            "You are ",
            h("select", {"name": "as", "data-autosubmit": True, "aria-label": "You are"}, *options),
        ),
        h("noscript", None, h("button", {"type": "submit"}, "Switch")),
    )


def _composer(data: PageData) -> Html:
    where = data.channel.label if data.thread is None else "thread"
    placeholder = f"Message {where}, or a command: /incident help"
    return h(
        "form",
        {"class": "composer", "method": "post", "action": SAY},
        h("input", {"type": "hidden", "name": "as", "value": data.viewer.user_id}),
        h("input", {"type": "hidden", "name": "c", "value": data.channel.channel_id}),
        h("input", {"type": "hidden", "name": "t", "value": data.thread or ""}),
        h("input", {"type": "hidden", "name": "back", "value": here(data)}),
        h(
            "input",
            {
                "type": "text",
                "name": "text",
                "placeholder": placeholder,
                "aria-label": "Message or slash command",
                "autocomplete": "off",
                "required": True,
            },
        ),
        h("button", {"type": "submit", "class": "btn btn-primary"}, "Send"),
    )


def document(data: PageData) -> Html:
    head = join(
        [
            Html('<meta charset="utf-8">'),
            Html('<meta name="viewport" content="width=device-width, initial-scale=1">'),
            h("title", None, f"{data.channel.label} · {data.team_name}"),
            h("link", {"rel": "stylesheet", "href": CSS}),
            h("script", {"src": JS, "defer": True}),
        ]
    )
    menu = h(
        "details",
        {"class": "menu"},
        h("summary", None, "☰ Channels"),
        _sidebar(data, "menu-sidebar"),
    )
    top = h("header", {"class": "top"}, h("span", {"class": "team"}, data.team_name), _who(data))
    body = h(
        "body",
        None,
        top,
        h(
            "div",
            {"class": "layout"},
            _sidebar(data, "sidebar"),
            h("div", {"class": "main"}, menu, pane(data), _composer(data)),
        ),
    )
    return Html("<!doctype html>\n" + h("html", {"lang": "en"}, h("head", None, head), body))
