"""`/incident declare|status|resolve|timeline`, messages in incident channels, and the
triage card's "Declare incident" button and modal.

Creating a channel and inviting people happen here, inside the command: the router
(handlers/slack/commands.py) waits up to ACK_BUDGET_S for the answer to send with the ack; when
Slack is slower than that it acks anyway and this finishes, answering through response_url.
The card's button opens a modal (title, severity) with the click's trigger_id, which expires
in ~3 s: so it has its own listener in this web process instead of the worker queue; the
submission is checked (form, then access) before it is acknowledged, so a bad title comes
back as an error in the modal, and the declaration runs right after the ack.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.cards.common import SECTION_TEXT_MAX, ActionId, escape, safe_text, slack_time, truncate
from bot.cards.incident import (
    DECLARE_CALLBACK,
    SEVERITY_ACTION,
    SEVERITY_BLOCK,
    SEVERITY_ICON,
    TITLE_ACTION,
    TITLE_BLOCK,
    TITLE_MAX,
    declare_view,
    summary_blocks,
    timeline_message,
    timeline_sections,
)
from bot.core.errors import ExternalServiceError, StoreUnavailable
from bot.core.times import duration_text
from bot.deps import Deps
from bot.incidents import flow as incident_flow
from bot.incidents import links
from bot.models.incident import DEFAULT_SEVERITY, SEVERITIES, Incident, Severity, incident_card_id
from bot.store import REDIS_ERRORS
from bot.triage import card_title
from handlers import wiring
from handlers.slack import access
from handlers.slack.after_ack import after_ack
from handlers.slack.buttons import NOT_A_CARD, STORE_DOWN, card_ref, tell
from handlers.slack.failures import report_failure
from handlers.slack.feature import Feature, Handler, Invocation, Reply, Subcommand
from handlers.slack.respond import tell_beside_card

log = logging.getLogger("seawall.incidents")

STATUS_ENTRIES = 5
TIMELINE_ENTRIES = 30
OPEN_LIST_MAX = 20
SEV_OPTION = re.compile(r"(?:^|\s)--sev(?:erity)?(?:=|\s+)(?!--)(\S+)", re.IGNORECASE)
DANGLING_SEV = re.compile(r"(?:^|\s)--sev(?:erity)?=?(?:\s*$|\s+--)", re.IGNORECASE)
DECLARE_USAGE = "`/incident declare <title> [--sev sev1|sev2|sev3|sev4]`"
NOT_HERE = (
    "This channel is not an incident channel, so there is nothing to {what} here. "
    "Run it in the incident's channel; `/incident status` lists the open incidents."
)


class UsageError(ValueError):
    """Slash-command text that cannot be used; the message says how to fix it."""


class DeclareRequest(BaseModel):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    severity: Severity = DEFAULT_SEVERITY


def parse_declare(text: str) -> DeclareRequest:
    """`DB down --sev sev1` -> title "DB down", severity sev1 (sev2 when not given)."""
    if DANGLING_SEV.search(text):
        raise UsageError(f"`--sev` needs a value: sev1, sev2, sev3 or sev4. Usage: {DECLARE_USAGE}")
    values = SEV_OPTION.findall(text)
    if len(values) > 1:
        raise UsageError(f"Give `--sev` once. Usage: {DECLARE_USAGE}")
    severity: str = DEFAULT_SEVERITY
    if values:
        raw = values[0].lower()
        severity = raw if raw.startswith("sev") else f"sev{raw}"
        if severity not in SEVERITIES:
            raise UsageError(
                f"`--sev` takes sev1, sev2, sev3 or sev4 (you wrote `{safe_text(values[0], 30)}`)."
            )
    title = " ".join(SEV_OPTION.sub(" ", text).split())
    if not title:
        raise UsageError(f"Give the incident a title. Usage: {DECLARE_USAGE}")
    if len(title) > TITLE_MAX:
        raise UsageError(f"Keep the title under {TITLE_MAX} characters (it names the channel).")
    try:
        return DeclareRequest.model_validate({"title": title, "severity": severity})
    except ValidationError as exc:  # unreachable after the checks above; kept as a net
        raise UsageError(f"That title cannot be used. Usage: {DECLARE_USAGE}") from exc


def _store_guard(handler: Handler) -> Handler:
    """Redis errors become StoreUnavailable, which the router turns into one plain sentence."""

    @functools.wraps(handler)
    async def guarded(deps: Deps, inv: Invocation) -> Reply:
        try:
            return await handler(deps, inv)
        except REDIS_ERRORS as exc:
            raise StoreUnavailable(f"Redis is unreachable: {exc}") from exc

    return guarded


@_store_guard
async def declare(deps: Deps, inv: Invocation) -> Reply:
    try:
        request = parse_declare(inv.text)
    except UsageError as exc:
        return Reply(f"{exc} Nothing was declared.")
    try:
        declared = await incident_flow.declare_once(
            deps,
            title=request.title,
            severity=request.severity,
            user_id=inv.user_id,
            declared_in=inv.channel_id,
            oncall=await wiring.oncall_user(deps),
        )
    except ExternalServiceError as exc:
        log.warning("declaring %r failed: %s", request.title, exc)
        return Reply(
            f"The incident was not declared: {exc}. Nothing was created; try again in a "
            "moment, or check that Seawall has the `channels:manage` scope."
        )
    incident = declared.incident
    if declared.duplicate:
        if incident is None:
            return Reply("That incident is being declared right now; nothing more was done.")
        return Reply(
            f"You declared *{escape(incident.title)}* moments ago: <#{incident.channel}>. "
            "Nothing new was created."
        )
    assert incident is not None
    text = (
        f"{SEVERITY_ICON[incident.severity]} <@{inv.user_id}> declared a "
        f"*{incident.severity.upper()}* incident: *{escape(incident.title)}*. "
        f"Follow and help in <#{incident.channel}>."
    )
    return Reply(" ".join([text, *declared.problems]), in_channel=True)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_TEXT_MAX)}}


def open_list(incidents: Sequence[Incident]) -> str:
    if not incidents:
        return "No open incidents. Declare one with " + DECLARE_USAGE + "."
    lines = [f"*Open incidents ({len(incidents)})*"]
    for incident in incidents[:OPEN_LIST_MAX]:
        lines.append(
            f"{SEVERITY_ICON[incident.severity]} {incident.severity.upper()} "
            f"<#{incident.channel}> · {safe_text(incident.title, 150)} · declared by "
            f"<@{incident.declared_by}> {slack_time(incident.declared_at)}"
        )
    if len(incidents) > OPEN_LIST_MAX:
        lines.append(f"…and {len(incidents) - OPEN_LIST_MAX} more")
    return "\n".join(lines)


@_store_guard
async def status(deps: Deps, inv: Invocation) -> Reply:
    incident = await incident_flow.incident_for_channel(deps, inv.channel_id)
    if incident is None:
        text = open_list(await incident_flow.open_incidents(deps))
        return Reply(text, blocks=[_section(text)])
    card = await deps.store.get_card(incident_card_id(incident.incident_id))
    entries = await deps.timeline.read(incident.incident_id, limit=STATUS_ENTRIES)
    blocks = [b.to_dict() for b in summary_blocks(incident, card.notes if card else ())]
    blocks.append(_section("*Latest in the timeline* (all of it: `/incident timeline`)"))
    blocks.extend(s.to_dict() for s in timeline_sections(entries))
    text = f"{incident.severity.upper()} incident {incident.status}: {escape(incident.title)}"
    return Reply(text, blocks=blocks)


@_store_guard
async def resolve(deps: Deps, inv: Invocation) -> Reply:
    result = await incident_flow.resolve(deps, inv.channel_id, inv.user_id)
    incident = result.incident
    if incident is None:
        return Reply(NOT_HERE.format(what="resolve"))
    if not result.changed:
        who = f" by <@{incident.resolved_by}>" if incident.resolved_by else ""
        when = f" at {slack_time(incident.resolved_at)}" if incident.resolved_at else ""
        return Reply(f"This incident was already resolved{who}{when}; nothing was changed.")
    assert incident.resolved_at is not None
    lasted = duration_text(incident.declared_at, incident.resolved_at)
    return Reply(
        f"✅ <@{inv.user_id}> resolved *{escape(incident.title)}* after {lasted}. "
        f"Draft the postmortem with `seawall postmortem {incident.incident_id}`.",
        in_channel=True,
    )


@_store_guard
async def show_timeline(deps: Deps, inv: Invocation) -> Reply:
    incident = await incident_flow.incident_for_channel(deps, inv.channel_id)
    if incident is None:
        return Reply(NOT_HERE.format(what="show"))
    entries = await deps.timeline.read(incident.incident_id, limit=TIMELINE_ENTRIES)
    message = timeline_message(incident, entries)
    return Reply(message.text, blocks=[b.to_dict() for b in message.blocks])


SUBCOMMANDS = [
    Subcommand(
        "/incident",
        "declare",
        "declare <title> [--sev sev1|sev2|sev3|sev4]",
        "open an incident: its own channel, a pinned summary card, you invited (default sev2)",
        declare,
        action="incident.declare",
    ),
    Subcommand(
        "/incident",
        "status",
        "status",
        "in an incident channel: its summary and latest timeline; elsewhere: open incidents",
        status,
    ),
    Subcommand(
        "/incident",
        "timeline",
        "timeline",
        f"in an incident channel: the last {TIMELINE_ENTRIES} timeline entries",
        show_timeline,
    ),
    Subcommand(
        "/incident",
        "resolve",
        "resolve",
        "in an incident channel: mark it resolved",
        resolve,
        action="incident.resolve",
    ),
]


def register(bolt: AsyncApp, deps: Deps) -> None:
    """People's messages in incident channels join the timeline (Events API `message`), and
    the triage card's Declare incident button and modal."""
    register_declare_modal(bolt, deps)

    # Every message event is acknowledged here, even the ones skipped: an unhandled event
    # answers 404, and Slack disables subscriptions that fail too often.
    @bolt.event("message")
    async def message(event: dict[str, Any]) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, bots (Seawall itself included): not what people said
        channel, user, ts = event.get("channel"), event.get("user"), event.get("ts")
        if not (isinstance(channel, str) and isinstance(user, str) and isinstance(ts, str)):
            return
        try:
            text = str(event.get("text") or "")
            await incident_flow.record_message(deps, channel, user, text, ts)
        except REDIS_ERRORS as exc:
            log.error("message %s in %s not added to the timeline: %s", ts, channel, exc)


DECLARE_ACTION = "incident.declare"
MODAL_FAILED = (
    "Slack did not open the form to declare an incident ({error}); nothing was declared. "
    "Press *Declare incident* again, or use `/incident declare <title>`."
)


def read_declare_form(view: dict[str, Any]) -> DeclareRequest | dict[str, str]:
    """The modal's title and severity, or the errors to show in it (by block)."""
    values = (view.get("state") or {}).get("values") or {}
    title_field = (values.get(TITLE_BLOCK) or {}).get(TITLE_ACTION) or {}
    title = " ".join(str(title_field.get("value") or "").split())
    chosen = (values.get(SEVERITY_BLOCK) or {}).get(SEVERITY_ACTION) or {}
    severity = str((chosen.get("selected_option") or {}).get("value") or DEFAULT_SEVERITY)
    if not title:
        return {TITLE_BLOCK: "Give the incident a title: it names the incident's channel."}
    if len(title) > TITLE_MAX:
        return {TITLE_BLOCK: f"Keep the title under {TITLE_MAX} characters (it names the channel)."}
    if severity not in SEVERITIES:
        return {SEVERITY_BLOCK: "Choose SEV1, SEV2, SEV3 or SEV4."}
    return DeclareRequest.model_validate({"title": title, "severity": severity})


def register_declare_modal(bolt: AsyncApp, deps: Deps) -> None:
    @bolt.action(ActionId.DECLARE_INCIDENT.value)
    async def declare_clicked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        # views.open is a call to Slack: after the ack, still well inside the trigger's 3 s.
        after_ack(open_declare_modal(deps, body, respond), "declare-incident modal")

    @bolt.view(DECLARE_CALLBACK)
    async def declare_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        view, user_id = body["view"], str(body["user"]["id"])
        card_id = str(view.get("private_metadata") or "")
        form = read_declare_form(view)
        if isinstance(form, dict):
            await ack(response_action="errors", errors=form)
            return
        # Again on the submission: a forged one, or a role lost since the modal opened.
        refusal = await access.action_refusal(deps, user_id, action=DECLARE_ACTION)
        await ack()
        if refusal is not None:
            after_ack(tell_beside_card(deps, card_id, user_id, refusal), "declare refusal")
            return
        after_ack(declare_from_modal(deps, card_id, user_id, form), "declare from a card")


async def open_declare_modal(deps: Deps, body: dict[str, Any], respond: AsyncRespond) -> None:
    """Check that this person may declare from this card, then open the modal, prefilled
    with the card's title."""
    ref = card_ref(body)
    user_id = str((body.get("user") or {}).get("id") or "")
    if ref is None:
        await tell(respond, NOT_A_CARD)
        return
    refusal = await access.action_refusal(deps, user_id, action=DECLARE_ACTION)
    if refusal is not None:
        await tell(respond, refusal)
        return
    try:
        card = await links.card_to_declare(deps, ref.c)
    except (StoreUnavailable, *REDIS_ERRORS):
        await tell(respond, STORE_DOWN)
        return
    if isinstance(card, str):
        await tell(respond, card)
        return
    try:
        await deps.slack.views_open(
            trigger_id=body["trigger_id"], view=declare_view(ref.c, card_title(card))
        )
    except SlackApiError as exc:
        log.warning("views.open for %s failed: %s", ref.c, exc.response.get("error"))
        await tell(respond, MODAL_FAILED.format(error=exc.response.get("error")))


async def declare_from_modal(deps: Deps, card_id: str, user_id: str, form: DeclareRequest) -> None:
    """Declare the incident linked to the card, then tell the person beside the card."""
    try:
        text = await links.declare_from_card(
            deps,
            card_id,
            user_id,
            title=form.title,
            severity=form.severity,
            oncall=await wiring.oncall_user(deps),
        )
        # Declaring an incident from a card means someone is on it: paging hears of it.
        await wiring.card_changed(deps, card_id)
    except (StoreUnavailable, *REDIS_ERRORS):
        text = STORE_DOWN
    except Exception as exc:
        text = report_failure(exc, f"declaring an incident from {card_id}")
    await tell_beside_card(deps, card_id, user_id, text)


FEATURE = Feature(
    name="incidents",
    subcommands=SUBCOMMANDS,
    jobs=incident_flow.JOBS,
    register=register,
)
