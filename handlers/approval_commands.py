"""`/incident change <description>`: ask for a four-eyes approval of an infrastructure change."""

from __future__ import annotations

import importlib
import logging
import re

from bot import approval_flow
from bot.cards.common import escape
from bot.deps import Deps
from handlers.commands import Invocation, Reply, Subcommand
from handlers.reactions import USER_ID

log = logging.getLogger("seawall.approvals")

DESCRIPTION_MAX = 2000
USAGE = (
    "Usage: `/incident change <what you are about to change>`, e.g. "
    "`/incident change move orders consumers to the new topic`. Someone from the approver "
    "group must approve it before you carry it out."
)


async def incident_for_channel(deps: Deps, channel: str) -> str | None:
    """SEAM(incidents): the id of the incident whose channel this is, for the timeline.

    Uses `bot.incident_flow.incident_for_channel` (owned by the incidents feature) when it is
    there; None otherwise, so change requests work before and without incidents."""
    try:
        incident_flow = importlib.import_module("bot.incident_flow")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.incident_flow":
            raise  # the module is there but broken: that must not pass silently
        return None
    lookup = getattr(incident_flow, "incident_for_channel", None)
    if lookup is None:
        return None
    found = await lookup(deps, channel)
    if found is None or isinstance(found, str):
        return found
    return str(found.incident_id)


async def change(deps: Deps, invocation: Invocation) -> Reply:
    description = invocation.text.strip()
    if not description:
        return Reply(USAGE)
    if len(description) > DESCRIPTION_MAX:
        return Reply(
            f"That description is {len(description)} characters; the limit is "
            f"{DESCRIPTION_MAX}. Nothing was created: shorten it and link to the details."
        )
    if not re.fullmatch(r"[CG][A-Z0-9]{2,}", invocation.channel_id):
        return Reply(
            "A change request needs a channel where approvers can see it; nothing was "
            "created. Run the command in your team's or the incident's channel."
        )
    if not re.fullmatch(USER_ID, invocation.user_id):
        return Reply("Seawall could not tell who you are; nothing was created.")
    approvers = deps.config.approvers
    if not approvers.users and not approvers.usergroups:
        return Reply(
            "Nobody could approve this: no approvers are configured. Nothing was created; "
            "ask an admin to set `approvers.users` or `approvers.usergroups` in SEAWALL_CONFIG."
        )
    await approval_flow.request_change(
        deps,
        description=description,
        requested_by=invocation.user_id,
        channel=invocation.channel_id,
        incident_id=await incident_for_channel(deps, invocation.channel_id),
        request_key=invocation.trigger_id,
    )
    checklist = " and every checklist item is ticked" if approvers.change_checklist else ""
    return Reply(
        f"Change request posted in this channel: “{escape(description[:200])}”. It counts "
        f"once someone else from the approver group approves it (:{approvers.reaction}: or "
        f"*Approve*){checklist}; it expires in {approvers.expire_minutes} minutes. "
        "Then press *Mark as done* when you have carried it out."
    )


SUBCOMMANDS: list[Subcommand] = [
    Subcommand(
        command="/incident",
        name="change",
        usage="change <description>",
        summary="ask someone from the approver group to approve an infrastructure change",
        handler=change,
    )
]
