"""A Markdown postmortem skeleton from an incident and its timeline: a pure function.

Everything from Slack is untrusted text; it is flattened to one line and escaped so that it
reads as typed and can never become a link, an image, HTML or a broken table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.core.times import duration_text
from bot.models.incident import Incident
from bot.models.timeline import TimelineEntry

CELL_TEXT_MAX = 1000  # a pasted log in a message must not swamp the table
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")  # what can start a link, tag, code or cell

OPEN_QUESTIONS = (
    ("Impact", "Who and what was affected, for how long, and how badly?"),
    ("Root cause", "Why did it happen? Keep asking why until the answer is about the system."),
    ("Detection", "How did we find out? Could we have known sooner?"),
    ("What went well", "What helped: alerts, runbooks, tools, people?"),
    ("What went badly", "What slowed us down or made it worse?"),
    ("Follow-ups", "What will we change, who owns it, by when? (one line each, with a ticket)"),
)


def md(text: str, limit: int = CELL_TEXT_MAX) -> str:
    """Untrusted text as one inert Markdown line (safe inside a table cell)."""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return _MD_SPECIAL.sub(r"\\\1", line)


def utc(moment: datetime, seconds: bool = True) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def who(entry: TimelineEntry) -> str:
    if entry.by_person:
        return f"@{entry.actor}"
    return "Seawall" if entry.actor in (None, "seawall") else md(entry.actor or "", 60)


def _facts(incident: Incident, generated_at: datetime) -> list[str]:
    channel = f"#{md(incident.channel_name)}" if incident.channel_name else md(incident.channel)
    rows = [
        ("Incident", f"`{incident.incident_id}` in {channel}"),
        ("Severity", incident.severity.upper()),
        ("Status", incident.status),
        ("Declared", f"{utc(incident.declared_at, False)} UTC by @{md(incident.declared_by)}"),
    ]
    if incident.resolved_at is not None:
        by = f" by @{md(incident.resolved_by)}" if incident.resolved_by else ""
        rows.append(("Resolved", f"{utc(incident.resolved_at, False)} UTC{by}"))
        rows.append(("Duration", duration_text(incident.declared_at, incident.resolved_at)))
    else:
        so_far = duration_text(incident.declared_at, generated_at)
        rows.append(("Resolved", f"not yet (open for {so_far} when this was generated)"))
    if incident.linked_alerts:
        rows.append(("Linked alerts", "; ".join(md(a.title, 200) for a in incident.linked_alerts)))
    return ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


def _timeline(entries: Sequence[TimelineEntry]) -> list[str]:
    if not entries:
        return ["_The timeline is empty._"]
    lines = ["| Time (UTC) | Kind | Who | What |", "|---|---|---|---|"]
    for entry in entries:
        lines.append(f"| {utc(entry.at)} | {entry.kind} | {who(entry)} | {md(entry.text)} |")
    return lines


def _changes(entries: Sequence[TimelineEntry]) -> list[str]:
    """Deploys, approved changes and playbook runs recorded before the incident's alerts."""
    found = [e for e in entries if e.kind == "change"]
    if not found:
        return [
            "_No change was recorded in the two hours before the linked alerts (deploys reach "
            "Seawall through POST /webhooks/change)._"
        ]
    return [f"- {md(e.text, 400)}" for e in found]


def _who_did_what(entries: Sequence[TimelineEntry]) -> list[str]:
    by_actor: dict[str, list[TimelineEntry]] = {}
    for entry in entries:
        by_actor.setdefault(who(entry), []).append(entry)
    if not by_actor:
        return ["_Nobody is in the timeline yet._"]
    people = [a for a in by_actor if a.startswith("@")]
    others = [a for a in by_actor if not a.startswith("@")]
    lines: list[str] = []
    for actor in [*people, *others]:
        done = by_actor[actor]
        lines += ["", f"### {actor} ({len(done)} entr{'y' if len(done) == 1 else 'ies'})", ""]
        lines += [f"- {utc(e.at, False)} · {e.kind}: {md(e.text, 300)}" for e in done]
    return lines[1:]


def _detection_hint(incident: Incident, entries: Sequence[TimelineEntry]) -> str | None:
    first_alert = next((e for e in entries if e.kind == "alert"), None)
    if first_alert is None:
        return "No alert is linked to this incident: did monitoring notice it at all?"
    return (
        f"The first alert in the timeline is at {utc(first_alert.at, False)} UTC; the incident "
        f"was declared at {utc(incident.declared_at, False)} UTC."
    )


def _open_questions(incident: Incident, entries: Sequence[TimelineEntry]) -> list[str]:
    lines = []
    if incident.status != "resolved":
        lines.append(
            "- [ ] **Still open**: resolve it with `/incident resolve` in its channel, then "
            "run `seawall postmortem` again for the full timeline."
        )
    hints = {"Detection": _detection_hint(incident, entries)}
    for name, question in OPEN_QUESTIONS:
        hint = hints.get(name)
        lines.append(f"- [ ] **{name}**: {question}" + (f" {hint}" if hint else ""))
    return lines


def render_postmortem(
    incident: Incident, entries: Sequence[TimelineEntry], generated_at: datetime
) -> str:
    """The whole document; `entries` oldest first, as the timeline stream holds them."""
    title = md(incident.title, 200)
    sections = [
        [f"# Postmortem: {title}"],
        _facts(incident, generated_at),
        [
            f"_Drafted by Seawall from the incident timeline on {utc(generated_at, False)} UTC. "
            "Edit freely: Seawall never reads this file back._"
        ],
        [
            "## Summary",
            "",
            "_TODO: in two or three sentences, what broke, who noticed, what fixed it._",
        ],
        ["## Impact", "", "_TODO (see Open questions)._"],
        ["## Root cause", "", "_TODO (see Open questions)._"],
        ["## What changed before", "", *_changes(entries)],
        [f"## Timeline ({len(entries)} entries, UTC)", "", *_timeline(entries)],
        ["## Who did what", "", *_who_did_what(entries)],
        ["## Open questions", "", *_open_questions(incident, entries)],
        ["## Follow-ups", "", "| What | Owner | Ticket | Due |", "|---|---|---|---|", "| | | | |"],
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"
