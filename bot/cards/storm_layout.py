"""How a storm's groups fit in one Slack message: pure, and measured, not estimated.

Groups are listed by state and severity, worst first. The richest layout that fits the text
budget wins: a line per group; then groups of one alertname on one line; then several groups
per line; then the same folded by alertname; last, as many as fit with the rest counted.
Links to the groups' own cards are added afterwards, worst first, while the budget lasts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from bot.cards.common import SECTION_TEXT_MAX, code
from bot.models.storm import Storm, StormRow, worst_first

NAME_MAX = 80  # characters of an alertname shown (untrusted; a code span)
LABELS_MAX = 80


class Fold(IntEnum):
    LINES = 0  # a line per group: its other labels, counts, a link to its card
    LINES_BY_NAME = 1  # groups sharing an alertname on one line
    COMPACT = 2  # several groups per line: name and count
    COMPACT_BY_NAME = 3
    CUT = 4  # the worst that fit; the others counted in one line


# Firing groups by severity rank (bot/models/severity.py), then every resolved group.
RANK_HEADINGS = {
    5: ("🔴", "critical"),
    4: ("🔴", "error"),
    3: ("🟠", "warning"),
    2: ("🔵", "info"),
    1: ("⚪", "debug"),
    0: ("⚪", "other severities"),
}
RESOLVED = -1


@dataclass(frozen=True)
class Item:
    """One entry of a list: a group, or the groups of one alertname folded together."""

    rows: tuple[StormRow, ...]

    @property
    def name(self) -> str:
        return self.rows[0].name

    @property
    def firing(self) -> int:
        return sum(r.firing for r in self.rows)

    @property
    def resolved(self) -> int:
        return sum(r.resolved for r in self.rows)


@dataclass(frozen=True)
class Bucket:
    """The groups of one heading: firing at one severity rank, or resolved (RESOLVED)."""

    rank: int
    items: tuple[Item, ...]

    def heading(self) -> str:
        groups = sum(len(i.rows) for i in self.items)
        word = "group" if groups == 1 else "groups"
        if self.rank == RESOLVED:
            alerts = sum(i.resolved for i in self.items)
            return f"🟢 *resolved* · {groups:,} {word} ({alerts:,} alerts)"
        icon, label = RANK_HEADINGS[self.rank]
        alerts = sum(i.firing for i in self.items)
        return f"{icon} *{label}* · {groups:,} {word} firing ({alerts:,} alerts)"


@dataclass(frozen=True)
class Layout:
    """The chosen layout: section texts in order, the fold used, how many groups are listed
    and how many of their cards are linked."""

    sections: list[str]
    fold: Fold
    listed: int
    linked: int


def permalink(team_url: str | None, channel: str, ts: str | None) -> str | None:
    """Slack's permalink form, https://<team>.slack.com/archives/<channel>/p<ts without dot>."""
    if not team_url or not ts:
        return None
    return f"{team_url.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def buckets(ordered: list[StormRow], by_name: bool) -> list[Bucket]:
    """Rows (sorted worst first) by heading; `by_name` folds the rows of one alertname into
    one item."""
    keys: list[int] = []
    grouped: dict[int, list[StormRow]] = {}
    for row in ordered:
        key = row.rank if row.is_firing else RESOLVED
        if key not in grouped:
            keys.append(key)
            grouped[key] = []
        grouped[key].append(row)
    result = []
    for key in keys:
        if not by_name:
            items = tuple(Item((r,)) for r in grouped[key])
        else:
            by: dict[str, list[StormRow]] = {}
            for row in grouped[key]:  # dicts keep the first (worst) row's position
                by.setdefault(row.name, []).append(row)
            items = tuple(Item(tuple(rs)) for rs in by.values())
        result.append(Bucket(key, items))
    return result


def link_text(link: str) -> str:
    """What a link to a group's card adds at the end of its entry."""
    return f" <{link}|↗>"


def item_text(item: Item, fold: Fold, firing: bool) -> str:
    """One entry as mrkdwn, without its link. Names and labels are untrusted: code spans
    (never bold, never a mention, never in the shape of Seawall's own lines)."""
    name = code(item.name, NAME_MAX)
    count = item.firing if firing else item.resolved
    groups = len(item.rows)
    if fold in (Fold.LINES, Fold.LINES_BY_NAME):
        if groups > 1:
            what = f"{groups} groups · {item.firing:,} firing"
        else:
            row = item.rows[0]
            labels = code(row.labels, LABELS_MAX)
            name += f" {labels}" if labels else ""
            what = f"{row.firing:,} firing" if row.firing else ""
            what += f"{', ' if what else ''}{row.resolved:,} resolved" if row.resolved else ""
            what += " · 👀" if row.acked else ""
            what += " · summary only" if row.summary_only and row.ts is None else ""
        if not firing and groups > 1:
            what = f"{groups} groups · {item.resolved:,} resolved"
        return f"• {name} {what}"
    return f"{name} {count:,}" + (f" ({groups} groups)" if groups > 1 else "")


def _chunks(heading: str, texts: list[str], sep: str) -> list[str]:
    """The heading and texts as section texts of at most SECTION_TEXT_MAX characters."""
    sections: list[str] = []
    current = heading
    joiner = "\n"  # the heading is a line of its own
    for text in texts:
        if len(current) + len(joiner) + len(text) > SECTION_TEXT_MAX:
            sections.append(current)
            current, joiner = text, sep
            continue
        current += joiner + text
        joiner = sep
    sections.append(current)
    return sections


@dataclass(frozen=True)
class _Entry:
    """An item's text in one fold, with and without its link (None: it cannot have one)."""

    bucket: int  # index of its bucket
    rows: tuple[StormRow, ...]
    text: str
    linked: str | None


class _Plan:
    """Every item's text in one fold, worked out once; `sections` then assembles any count of
    items and links from them (the searches below try many counts)."""

    def __init__(self, storm: Storm, ordered: list[StormRow], fold: Fold) -> None:
        by_name = fold in (Fold.LINES_BY_NAME, Fold.COMPACT_BY_NAME, Fold.CUT)
        self.fold = fold
        self.total = len(ordered)
        self.buckets = buckets(ordered, by_name=by_name)
        self.sep = "\n" if fold in (Fold.LINES, Fold.LINES_BY_NAME) else " · "
        self.entries: list[_Entry] = []
        for index, bucket in enumerate(self.buckets):
            firing = bucket.rank != RESOLVED
            for item in bucket.items:
                text = item_text(item, fold, firing)
                link = None
                if len(item.rows) == 1:
                    link = permalink(storm.team_url, storm.channel, item.rows[0].ts)
                linked = text + link_text(link) if link else None
                self.entries.append(_Entry(index, item.rows, text, linked))
        self.linkable = sum(1 for e in self.entries if e.linked is not None)
        self.floor = sum(len(e.text) for e in self.entries)  # no layout is shorter

    def sections(self, limit: int | None, links: int) -> tuple[list[str], int, int]:
        """Section texts listing the first `limit` items (None: all), the first `links`
        linkable ones with their link. Returns (sections, groups listed, cards linked)."""
        shown = self.entries if limit is None else self.entries[:limit]
        texts: dict[int, list[str]] = {}
        listed = linked = 0
        for entry in shown:
            text = entry.text
            if entry.linked is not None and linked < links:
                text, linked = entry.linked, linked + 1
            texts.setdefault(entry.bucket, []).append(text)
            listed += len(entry.rows)
        sections: list[str] = []
        for index, bucket in enumerate(self.buckets):
            if index in texts:
                sections += _chunks(bucket.heading(), texts[index], self.sep)
        if listed < self.total:
            rest = [r for e in self.entries[len(shown) :] for r in e.rows]
            sections.append(_rest_line(rest))
        return sections, listed, linked


def _rest_line(rest: list[StormRow]) -> str:
    """What the list leaves out, counted: the worst are listed, so the rest are the least bad."""
    firing = [r for r in rest if r.is_firing]
    alerts = sum(r.firing for r in firing)
    return (
        f"…and *{len(rest):,} more groups* not listed (too many for one Slack message): "
        f"{len(firing):,} firing with {alerts:,} alerts, {len(rest) - len(firing):,} resolved."
    )


def _largest(fits: Callable[[int], bool], high: int) -> int:
    """The largest n in 0..high with fits(n), for fits true up to a point and false after."""
    low = 0
    while low < high:
        mid = (low + high + 1) // 2
        if fits(mid):
            low = mid
        else:
            high = mid - 1
    return low


def fit(storm: Storm, *, budget: int, max_sections: int) -> Layout:
    """The richest layout of `storm.rows` whose sections hold at most `budget` characters in
    all and number at most `max_sections`; then as many links to the groups' cards as fit."""

    def fits(sections: list[str]) -> bool:
        return sum(len(s) for s in sections) <= budget and len(sections) <= max_sections

    ordered = sorted(storm.rows, key=worst_first)
    plan, limit = _choose(storm, ordered, fits, budget)
    links = _largest(lambda n: fits(plan.sections(limit, n)[0]), plan.linkable)
    sections, listed, linked = plan.sections(limit, links)
    return Layout(sections=sections, fold=plan.fold, listed=listed, linked=linked)


def _choose(
    storm: Storm, ordered: list[StormRow], fits: Callable[[list[str]], bool], budget: int
) -> tuple[_Plan, int | None]:
    """The first fold that lists every group, else CUT with as many items as fit."""
    for fold in (Fold.LINES, Fold.LINES_BY_NAME, Fold.COMPACT, Fold.COMPACT_BY_NAME):
        plan = _Plan(storm, ordered, fold)
        if plan.floor <= budget and fits(plan.sections(None, 0)[0]):
            return plan, None
    cut = _Plan(storm, ordered, Fold.CUT)
    return cut, _largest(lambda n: fits(cut.sections(n, 0)[0]), len(cut.entries))
