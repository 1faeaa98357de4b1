"""Slack mrkdwn as HTML: links, mentions, dates, *bold*, _italic_, ~strike~, code, quotes.

Escaping comes first. The `<...>` constructs and code spans are cut out and rendered on their
own (each part escaped by `h()`); everything left is escaped as a whole, and only then are the
formatting markers (`*`, `_`, `~`, a leading `>`) turned into tags, so nothing a sender typed
can become markup. Slack's own entities (`&amp;`, `&lt;`, `&gt;`) are decoded before escaping
so they show as the characters they stand for, exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.emulator.web.emoji import replace_shortcodes
from bot.emulator.web.html import Html, esc, external_link, h, safe_url
from bot.emulator.web.viewer import Viewer

_PRE = re.compile(r"```(.+?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_ANGLE = re.compile(r"<([^<>]+)>")
_SLOT = re.compile("\x00(\\d+)\x00")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])")
_QUOTE = re.compile(r"^&gt; ?(.*)$")
_DATE_TOKEN = re.compile(r"\{(\w+)\}")


def slack_unescape(text: str) -> str:
    """Slack's three entities back to characters (what the sender meant to show)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(text: str, *, emoji: bool = True) -> Html:
    """A plain_text object: no formatting, shortcodes shown as emoji, line breaks kept."""
    shown = replace_shortcodes(text) if emoji else text
    return Html("<br>".join(esc(line) for line in shown.split("\n")))


def mrkdwn(text: str, viewer: Viewer) -> Html:
    """A mrkdwn string as HTML for this viewer (their names, their timezone)."""
    slots: list[Html] = []

    def stash(markup: Html) -> str:
        slots.append(markup)
        return f"\x00{len(slots) - 1}\x00"

    work = text.replace("\x00", "")  # the slot marker cannot come from the sender
    work = _PRE.sub(lambda m: stash(h("pre", None, slack_unescape(m.group(1).strip("\n")))), work)
    work = _CODE.sub(lambda m: stash(h("code", None, slack_unescape(m.group(1)))), work)
    work = _ANGLE.sub(lambda m: stash(special(m.group(1), viewer)), work)
    escaped = replace_shortcodes(esc(slack_unescape(work)))
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    escaped = _ITALIC.sub(r"<em>\1</em>", escaped)
    escaped = _STRIKE.sub(r"<del>\1</del>", escaped)
    body = _lines(escaped)
    return Html(_SLOT.sub(lambda m: slots[int(m.group(1))], body))


def _lines(escaped: str) -> str:
    """Line breaks, with consecutive `> ` lines gathered into one block quote."""
    out: list[str] = []
    quoted: list[str] = []
    for line in escaped.split("\n"):
        found = _QUOTE.match(line)
        if found:
            quoted.append(found.group(1))
            continue
        if quoted:
            out.append("<blockquote>" + "<br>".join(quoted) + "</blockquote>")
            quoted = []
        out.append(line)
    if quoted:
        out.append("<blockquote>" + "<br>".join(quoted) + "</blockquote>")
    # A block quote is a block of its own: no <br> before or after it.
    html = ""
    for i, part in enumerate(out):
        if i and not out[i - 1].startswith("<blockquote>") and not part.startswith("<blockquote>"):
            html += "<br>"
        html += part
    return html


def special(inner: str, viewer: Viewer) -> Html:
    """One `<...>` construct: a mention, a channel, a date, a broadcast or a link."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        name = viewer.users.get(target[1:]) or label or target[1:]
        return h("span", {"class": "mention"}, "@" + name)
    if target.startswith("#"):
        channel = target[1:]
        name = viewer.channels.get(channel) or label or channel
        return h("a", {"class": "mention", "href": viewer.page_url(channel)}, "#" + name)
    if target.startswith("!"):
        return _command(target[1:], label, viewer)
    url = safe_url(slack_unescape(target))
    text = slack_unescape(label or target)
    if url is None:
        return esc(text)
    return external_link(url, text)


def _command(body: str, label: str, viewer: Viewer) -> Html:
    """`<!here>`, `<!subteam^S1|@sre>`, `<!date^...>` and the rest of Slack's `!` forms."""
    kind, _, rest = body.partition("^")
    if kind == "subteam":
        handle = viewer.usergroups.get(rest) or label or rest
        return h("span", {"class": "mention"}, handle if handle.startswith("@") else "@" + handle)
    if kind == "date":
        return _date(rest, label, viewer)
    if kind in ("here", "channel", "everyone"):
        return h("span", {"class": "mention"}, "@" + kind)
    return esc(label or kind)


def _date(spec: str, fallback: str, viewer: Viewer) -> Html:
    """`<!date^epoch^{date_short_pretty} {time}^optional_link|fallback>` in the viewer's zone."""
    epoch_text, _, rest = spec.partition("^")
    template, _, link = rest.partition("^")
    try:
        moment = viewer.local(float(epoch_text))
    except (ValueError, OverflowError, OSError):
        return esc(slack_unescape(fallback or spec))
    shown = _DATE_TOKEN.sub(lambda m: _date_token(m.group(1), moment, viewer), template)
    text = slack_unescape(shown or fallback)
    url = safe_url(slack_unescape(link)) if link else None
    when = h("time", {"datetime": moment.isoformat(), "title": slack_unescape(fallback)}, text)
    return external_link(url, when) if url else when


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _pretty(moment: datetime, viewer: Viewer, otherwise: Callable[[datetime], str]) -> str:
    today = viewer.local(viewer.now).date()
    names = {today: "today", today - timedelta(days=1): "yesterday"}
    names[today + timedelta(days=1)] = "tomorrow"
    return names.get(moment.date()) or otherwise(moment)


def _long(m: datetime) -> str:
    return f"{m:%A, %B} {_ordinal(m.day)}, {m.year}"


def _date_token(token: str, m: datetime, viewer: Viewer) -> str:
    formats: dict[str, Callable[[datetime], str]] = {
        "date_num": lambda m: f"{m:%Y-%m-%d}",
        "date": lambda m: f"{m:%B} {_ordinal(m.day)}, {m.year}",
        "date_short": lambda m: f"{m:%b} {m.day}, {m.year}",
        "date_long": _long,
        "time": lambda m: f"{m:%H:%M}",
        "time_secs": lambda m: f"{m:%H:%M:%S}",
    }
    if token.endswith("_pretty") and token.removesuffix("_pretty") in formats:
        return _pretty(m, viewer, formats[token.removesuffix("_pretty")])
    if token == "ago":
        minutes = int((viewer.now - m.timestamp()) // 60)
        return f"{minutes} minutes ago" if minutes >= 0 else f"in {-minutes} minutes"
    format_of = formats.get(token)
    return format_of(m) if format_of else "{" + token + "}"
