"""`/playbook list | <name> [args] | <name> --help | status <run>` and
`/incident quarantine <target>`: parse at the edge, start a durable run, answer at once; and
the buttons on run cards (the human decision after an interrupted step, and Abort)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.access.rules import playbook_action
from bot.cards.common import RUN_CHOICES, ActionId, escape
from bot.core import keys
from bot.deps import Deps
from bot.incidents import flow as incidents
from handlers.slack.access import playbook_card_action
from handlers.slack.feature import (
    Button,
    CardWork,
    Confirming,
    Feature,
    Invocation,
    Reply,
    Subcommand,
)
from playbooks import decisions, engine, rollback, waiting
from playbooks.decisions import Allowed
from playbooks.engine import start_run
from playbooks.params import ParamError, help_text, parse_params, usage
from playbooks.registry import Registry, load_registry
from playbooks.run_state import load_run

QUARANTINE = "quarantine"
HELP_WORDS = ("--help", "-h", "help")


def registry_of(deps: Deps) -> Registry:
    return load_registry(deps.config.playbook_modules)


async def list_playbooks(deps: Deps, inv: Invocation) -> Reply:
    playbooks = registry_of(deps).all()
    if not playbooks:
        return Reply("No playbooks are installed.")
    lines = ["*Playbooks* (`/playbook <name> --help` for details):"]
    lines += [f"• `{p.name}` — {escape(p.summary)}" for p in playbooks]
    return Reply("\n".join(lines))


async def status(deps: Deps, inv: Invocation) -> Reply:
    run_id = inv.text.strip()
    if not run_id.isalnum() or len(run_id) > 32:
        return Reply("Usage: `/playbook status <run id>` (the id is on the run card).")
    run = await load_run(deps, run_id)
    if run is None:
        return Reply(f"No run `{escape(run_id)}` is known.")
    done = sum(1 for s in run.steps if s.state.value in ("succeeded", "skipped"))
    current = run.current
    where = f"; now at step {run.step_index + 1}: {escape(current.description)}" if current else ""
    return Reply(
        f"Run `{run.run_id}` of *{run.playbook}*: {run.status.value}, "
        f"{done}/{len(run.steps)} steps done{where}."
    )


async def start(
    deps: Deps, inv: Invocation, name: str, text: str, incident_id: str | None = None
) -> Reply:
    playbook = registry_of(deps).get(name)
    if playbook is None:
        return Reply(f"There is no playbook `{escape(name[:60])}`. `/playbook list` shows them.")
    if text.strip() in HELP_WORDS:
        return Reply(help_text(playbook))
    try:
        params = parse_params(playbook, text, playbook.settings_in(deps.config.playbooks))
    except ParamError as exc:
        problems = "\n".join(f"• {p}" for p in exc.problems)
        return Reply(
            f"Nothing was started: the arguments do not fit *{playbook.name}*.\n{problems}\n"
            f"Usage: `{escape(usage(playbook))}` — `/playbook {playbook.name} --help` explains."
        )
    # A retried or doubled command must not start a second run.
    if inv.trigger_id and not await deps.store.claim(
        keys.command_once(inv.trigger_id), keys.COMMAND_ONCE_TTL_S
    ):
        return Reply("That command was already received; its run card is in the channel.")
    run = await start_run(deps, playbook, params, inv.user_id, inv.channel_id, incident_id)
    return Reply(f"Started *{playbook.name}* (run `{run.run_id}`); its card follows each step.")


async def run_named(deps: Deps, inv: Invocation) -> Reply:
    # Typed in an incident's channel, the run belongs to that incident: its steps, prompts
    # and approvals join the incident's timeline (as `/incident quarantine` always did).
    incident_id = await _incident_here(deps, inv.channel_id)
    return await start(deps, inv, inv.sub, inv.text.removeprefix(inv.sub).strip(), incident_id)


async def quarantine(deps: Deps, inv: Invocation) -> Reply:
    incident_id = await _incident_here(deps, inv.channel_id)
    return await start(deps, inv, QUARANTINE, inv.text, incident_id)


async def _incident_here(deps: Deps, channel: str) -> str | None:
    incident = await incidents.incident_for_channel(deps, channel)
    return incident.incident_id if incident is not None else None


def run_action(inv: Invocation) -> str | None:
    """`playbook.<name>` for a command that starts a run; None for asking how to use it."""
    name = QUARANTINE if inv.sub == QUARANTINE else inv.sub
    text = inv.text if inv.sub == QUARANTINE else inv.text.removeprefix(inv.sub)
    return None if text.strip() in HELP_WORDS else playbook_action(name)


SUBCOMMANDS = [
    Subcommand("/playbook", "list", "list", "the playbooks you can run", list_playbooks),
    Subcommand("/playbook", "status", "status <run>", "where a run stands", status),
    Subcommand(
        "/playbook",
        "",
        "<name> [args] | <name> --help",
        "run a playbook, or explain it",
        run_named,
        action=run_action,
    ),
    Subcommand(
        "/incident",
        QUARANTINE,
        "quarantine <target>",
        "take a faulty server out of rotation, keep it for debugging, bring in a spare",
        quarantine,
        action=run_action,
    ),
]


RUN_PREFIX = "run-"
# A decision about a run from its card: (run id, who clicked, may they decide?) -> sentence.
RunDecision = Callable[[str, str, Allowed], Awaitable[str]]


def buttons(deps: Deps) -> Mapping[ActionId, Button]:
    async def may_decide(user_id: str, requested_by: str) -> bool:
        # The operator who started it, or anyone allowed to approve risky changes.
        return user_id == requested_by or user_id in deps.config.approvers.users

    def on_run(decide: RunDecision) -> CardWork:
        async def work(card_id: str, user: dict[str, Any]) -> str:
            card = await deps.store.get_card(card_id)
            requested_by = getattr(card.subject, "requested_by", "") if card else ""

            async def allowed(user_id: str) -> bool:
                return await may_decide(user_id, requested_by)

            return await decide(card_id.removeprefix(RUN_PREFIX), user["id"], allowed)

        return work

    async def rerun(run_id: str, user_id: str, allowed: Allowed) -> str:
        return await decisions.decide_interrupted(deps, run_id, user_id, "rerun", allowed)

    async def skip(run_id: str, user_id: str, allowed: Allowed) -> str:
        return await decisions.decide_interrupted(deps, run_id, user_id, "skip", allowed)

    async def ask_again(run_id: str, user_id: str, allowed: Allowed) -> str:
        return await decisions.ask_again(deps, run_id, user_id, allowed)

    async def roll_back(run_id: str, user_id: str, allowed: Allowed) -> str:
        return await decisions.request_rollback(deps, run_id, user_id, allowed)

    async def abort(run_id: str, user_id: str, allowed: Allowed) -> str:
        run = await load_run(deps, run_id)
        if run is not None and not await allowed(user_id):
            return decisions.not_yours(run)
        if await decisions.abort_run(deps, run_id, user_id, "from Slack") is None:
            return "This run has already ended; nothing was changed."
        return "Aborted: no further step will start (a step already running finishes first)."

    decide = {
        ActionId.RUN_RERUN: rerun,
        ActionId.RUN_SKIP: skip,
        ActionId.RUN_ABORT: abort,
        ActionId.RUN_ASK_AGAIN: ask_again,
        ActionId.RUN_ROLLBACK: roll_back,
    }
    table = {action: Button(on_run(fn), playbook_card_action) for action, fn in decide.items()}
    return {**table, **choice_buttons(deps, may_decide)}


def choice_buttons(
    deps: Deps, may_decide: Callable[[str, str], Awaitable[bool]]
) -> dict[ActionId, Button]:
    """The buttons a waiting step offers (Hold, Step back, Continue...): each carries its
    choice and the wait it answers (playbooks/waiting.py)."""

    async def work(card_id: str, token: str | None, user: dict[str, Any]) -> str:
        card = await deps.store.get_card(card_id)
        requested_by = getattr(card.subject, "requested_by", "") if card else ""

        async def allowed(user_id: str) -> bool:
            return await may_decide(user_id, requested_by)

        return await waiting.choose(
            deps, card_id.removeprefix(RUN_PREFIX), user["id"], token, allowed
        )

    return {action: Button(Confirming(work), playbook_card_action) for action in RUN_CHOICES}


FEATURE = Feature(
    name="playbooks",
    subcommands=SUBCOMMANDS,
    buttons=buttons,
    jobs={**engine.JOBS, **rollback.JOBS},
)
