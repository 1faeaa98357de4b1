"""mrkdwn as the page shows it: Slack's formatting, for the viewer, and never the sender's
markup."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.emulator.web.mrkdwn import mrkdwn
from bot.emulator.web.viewer import Viewer

from .parsed import markup_problems, parse

NOW = 1_768_478_400.0  # 2026-01-15 12:00 UTC
ALICE = Viewer(
    "U0ALICE",
    now=NOW,
    tz=ZoneInfo("Europe/Paris"),
    users={"U0ALICE": "alice", "U0BOB": "bob"},
    channels={"C0ALERTS": "alerts"},
)
BOB_IN_TOKYO = Viewer("U0BOB", now=NOW, tz=ZoneInfo("Asia/Tokyo"), users=ALICE.users)


def test_formatting_becomes_tags() -> None:
    html = mrkdwn("*bold* _italic_ ~gone~ `code` and snake_case_name stays", ALICE)
    assert "<strong>bold</strong>" in html
    assert "<em>italic</em>" in html
    assert "<del>gone</del>" in html
    assert "<code>code</code>" in html
    assert "snake_case_name" in html


def test_code_blocks_and_quotes() -> None:
    html = mrkdwn("```line 1\n*not bold*```\n&gt; quoted\n> also quoted\nafter", ALICE)
    assert "<pre>line 1\n*not bold*</pre>" in html
    assert "<blockquote>quoted<br>also quoted</blockquote>after" in html


def test_mentions_and_channels_use_names_the_viewer_knows() -> None:
    html = mrkdwn("<@U0BOB> in <#C0ALERTS> for <!subteam^S0SRE> <!here> <@U0NOBODY>", ALICE)
    assert parse(html).texts == [
        "@bob",
        " in ",
        "#alerts",
        " for ",
        "@S0SRE",
        " ",
        "@here",
        " ",
        "@U0NOBODY",
    ]
    assert 'href="/?as=U0ALICE&amp;c=C0ALERTS"' in html


def test_a_date_is_shown_in_each_viewers_timezone() -> None:
    date = "<!date^1768478400^{date_short_pretty} {time}|2026-01-15 12:00 UTC>"
    assert parse(mrkdwn(date, ALICE)).texts == ["today 13:00"]
    assert parse(mrkdwn(date, BOB_IN_TOKYO)).texts == ["today 21:00"]
    long_form = "<!date^1768478400^{date_long} at {time_secs}|x>"
    assert parse(mrkdwn(long_form, ALICE)).texts == ["Thursday, January 15th, 2026 at 13:00:00"]


def test_a_date_that_is_not_a_number_shows_its_fallback() -> None:
    assert parse(mrkdwn("<!date^soon^{time}|at some point>", ALICE)).texts == ["at some point"]


def test_links_open_in_a_new_tab_and_keep_their_query() -> None:
    html = mrkdwn("<https://grafana.example.net/d?a=1&amp;b=2|the graph>", ALICE)
    assert 'href="https://grafana.example.net/d?a=1&amp;b=2"' in html
    assert 'rel="noopener noreferrer"' in html
    assert parse(html).texts == ["the graph"]


def test_a_javascript_link_is_only_text() -> None:
    html = mrkdwn("<javascript:alert(document.cookie)|click me> <data:text/html,x>", ALICE)
    assert "href" not in html
    assert parse(html).texts == ["click me data:text/html,x"]


def test_the_senders_markup_is_shown_as_text() -> None:
    hostile = '&lt;script&gt;alert(1)&lt;/script&gt; <script>x</script> "><img src=x onerror=y>'
    html = mrkdwn(hostile, ALICE)
    assert markup_problems(html) == []
    assert "<script>alert(1)</script>" in " ".join(parse(html).texts)


def test_slacks_entities_are_decoded_once() -> None:
    assert parse(mrkdwn("a &amp;lt; b &amp; c", ALICE)).texts == ["a &lt; b & c"]


def test_the_slot_marker_cannot_be_forged() -> None:
    html = mrkdwn("\x000\x00 <@U0BOB>", ALICE)  # what a slot looks like inside the renderer
    assert parse(html).texts == ["0 ", "@bob"]


def test_known_shortcodes_become_emoji() -> None:
    assert parse(mrkdwn(":white_check_mark: done :custom_thing:", ALICE)).texts == [
        "✅ done :custom_thing:"
    ]
