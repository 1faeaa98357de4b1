"""The storm card: within Slack's limits at any size, folded correctly, and showing the latest
state of every group it lists."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.cards.common import BLOCKS_TEXT_MAX
from bot.cards.storm import STORM_TEXT_BUDGET, headline, render_storm
from bot.cards.storm_layout import Fold, fit
from bot.emulator.blocks import MAX_MESSAGE_BLOCKS, blocks_text_length, validate_blocks
from bot.models.card import Ack, TriageCard
from bot.models.storm import Storm, StormRow, worst_first
from bot.storm.rules import merge

NOW = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
TEAM = "https://seawall-emulator.slack.com/"
SEVERITIES = ("critical", "warning", "info")
ITEM = re.compile(r"`([^`]+)`(?: `[^`]*`)? (\d[\d,]*)")


def row(
    i: int, *, name: str | None = None, firing: int = 20, posted: bool = False, **kw: Any
) -> StormRow:
    values: dict[str, Any] = {
        "card_id": f"am-{i:05d}",
        "revision": 1,
        "name": name or f"Storm{i:04d}",
        "severity": SEVERITIES[i % 3],
        "firing": firing,
        "resolved": 0 if firing else 20,
        "started_at": NOW + timedelta(seconds=i),
        "ts": f"1772506800.{i:06d}" if posted else None,
    }
    values.update(kw)
    return StormRow(**values)


def storm_of(rows: list[StormRow], **kw: Any) -> Storm:
    return Storm(
        channel="C0ALERTS",
        started_at=NOW,
        rows=rows,
        changed_at=NOW,
        refreshed_at=NOW,
        quiet=timedelta(minutes=10),
        team_url=TEAM,
        **kw,
    )


def render(storm: Storm, **card: Any) -> list[dict[str, Any]]:
    triage = TriageCard(
        card_id="storm-C0ALERTS-20260303030000",
        channel="C0ALERTS",
        subject=storm,
        created_at=NOW,
        updated_at=NOW,
        **card,
    )
    return [b.to_dict() for b in render_storm(triage, storm, NOW).blocks]


def listed(blocks: list[dict[str, Any]]) -> dict[str, int]:
    """Every `name` count the list sections show (headers and totals excluded)."""
    found: dict[str, int] = {}
    for block in blocks[2:]:
        if block["type"] == "section":
            for name, count in ITEM.findall(block["text"]["text"]):
                found[name] = int(count.replace(",", ""))
    return found


def assert_within_slack_limits(blocks: list[dict[str, Any]]) -> None:
    assert validate_blocks(blocks) == []  # the emulator's validator: Slack's per-block rules
    assert len(blocks) <= MAX_MESSAGE_BLOCKS
    assert blocks_text_length(blocks) <= STORM_TEXT_BUDGET < BLOCKS_TEXT_MAX


@pytest.mark.parametrize("groups", [1, 60, 2000])
def test_the_storm_card_stays_within_slacks_limits(groups: int) -> None:
    rows = [row(i, posted=i % 2 == 0, firing=0 if i % 9 == 0 else 20) for i in range(groups)]
    assert_within_slack_limits(render(storm_of(rows)))


def test_one_group_is_one_line_with_its_labels_counts_and_link() -> None:
    blocks = render(storm_of([row(0, posted=True, labels="env=prod", firing=3, resolved=1)]))
    text = json.dumps(blocks, ensure_ascii=False)
    assert "• `Storm0000` `env=prod` 3 firing, 1 resolved" in text
    assert f"<{TEAM}archives/C0ALERTS/p1772506800000000|↗>" in text
    assert blocks[0]["text"]["text"] == (
        "⛈️ STORM · 1 group firing · 3 alerts · worst: critical Storm0000"
    )


def test_60_groups_each_get_a_line_by_severity_worst_first() -> None:
    rows = [row(i) for i in range(60)]
    layout = fit(storm_of(rows), budget=STORM_TEXT_BUDGET, max_sections=45)
    assert layout.fold is Fold.LINES
    assert layout.listed == 60
    text = "\n".join(layout.sections)
    assert text.index("🔴 *critical* · 20 groups firing") < text.index("🟠 *warning*")
    assert text.index("🟠 *warning*") < text.index("🔵 *info*")
    assert text.index("`Storm0000`") < text.index("`Storm0003`")  # older first


def test_groups_sharing_an_alertname_are_folded_when_a_line_each_does_not_fit() -> None:
    rows = [
        row(i, name=f"Disk{i % 40:02d}", severity="critical", labels=f"node=n{i}")
        for i in range(2000)
    ]
    layout = fit(storm_of(rows), budget=STORM_TEXT_BUDGET, max_sections=45)
    assert layout.fold is Fold.LINES_BY_NAME
    assert layout.listed == 2000
    text = "\n".join(layout.sections)
    assert "• `Disk00` 50 groups · 1,000 firing" in text
    assert text.count("`Disk") == 40


def test_2000_distinct_groups_list_the_worst_and_count_every_other() -> None:
    rows = [row(i, firing=0 if i % 10 == 0 else 20) for i in range(2000)]
    blocks = render(storm_of(rows))
    assert_within_slack_limits(blocks)
    shown = listed(blocks)
    assert 400 < len(shown) < 2000
    rest = re.search(
        r"…and \*([\d,]+) more groups\* not listed", json.dumps(blocks, ensure_ascii=False)
    )
    assert rest is not None
    assert len(shown) + int(rest.group(1).replace(",", "")) == 2000  # every group accounted for
    # The listed ones are the worst: firing before resolved, by severity, then the oldest.
    worst = [r.name for r in sorted(rows, key=worst_first)]
    assert set(shown) == set(worst[: len(shown)])


def test_untrusted_names_cannot_mention_link_or_break_out_of_their_code_span() -> None:
    evil = "<!channel> `*APPROVED*` <https://evil.example|click>\u202e"
    blocks = render(storm_of([row(0, name=evil)]))
    assert blocks[0]["text"]["type"] == "plain_text"  # the header: Slack parses nothing there
    text = json.dumps(blocks[1:], ensure_ascii=False)
    assert "<!channel>" not in text
    assert "<https://evil" not in text
    assert "\u202e" not in text
    assert "`&lt;!channel&gt; ˋ*APPROVED*ˋ" in text


def test_the_card_converges_to_the_latest_state_of_every_group() -> None:
    storm = storm_of([])
    for wave in (1, 2, 3, 4):
        rows = [row(i, firing=5 * wave, revision=wave) for i in range(60)]
        storm, change = merge(storm, rows, NOW + timedelta(seconds=wave))
        assert change == "state"
    resolved = [
        row(i, firing=0, revision=5) if i < 30 else row(i, firing=20, revision=4) for i in range(60)
    ]
    storm, _ = merge(storm, resolved, NOW + timedelta(seconds=5))
    shown = listed(render(storm))
    assert shown == {f"Storm{i:04d}": 20 for i in range(60)}  # 20 firing, or 20 resolved
    assert "🟢 *resolved* · 30 groups (600 alerts)" in json.dumps(render(storm), ensure_ascii=False)


def test_an_ended_storm_says_so_and_offers_no_buttons() -> None:
    rows = [row(i, firing=0) for i in range(12)]
    storm = storm_of(rows, ended_at=NOW, end_reason="resolved")
    blocks = render(storm)
    assert blocks[0]["text"]["text"] == "🌤️ STORM OVER · 12 groups, all resolved"
    assert "every group resolved" in json.dumps(blocks)
    assert all(b["type"] != "actions" for b in blocks)


def test_acknowledge_all_goes_once_every_firing_group_is_acknowledged() -> None:
    rows = [row(i, acked=True) for i in range(3)]
    blocks = render(storm_of(rows), ack=Ack(user_id="U0ALICE", at=NOW))
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["storm.silence"]
    assert "All acknowledged by <@U0ALICE>" in json.dumps(blocks)


def test_the_first_line_fits_a_header_whatever_the_worst_name() -> None:
    line = headline(storm_of([row(0, name="X" * 500)]))
    assert len(line) <= 150
    assert line.startswith("⛈️ STORM · 1 group firing · 20 alerts · worst: critical XXX")
