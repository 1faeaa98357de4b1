"""Read what one person's page shows from the emulator: who they are, the conversations they
can open, the messages and their own ephemerals, and their open modal."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.emulator.web.emulated import Browsable
from bot.emulator.web.page import Conversation, PageData
from bot.emulator.web.state import WebState
from bot.emulator.web.viewer import Viewer

VISITOR = "U0VISITOR"  # who the page is for when the workspace has no people configured


def people(emu: Browsable) -> list[tuple[str, str]]:
    users = [(uid, u.name) for uid, u in emu.config.users.items() if not u.is_bot]
    return users or [(VISITOR, "visitor")]


def viewer_of(emu: Browsable, user: str | None) -> Viewer:
    """The person asked for, or the first one when the request names nobody we know."""
    cfg = emu.config
    known = dict(people(emu))
    user_id = user if user in known else next(iter(known))
    member = cfg.users.get(user_id)
    # Group DMs (G...) are not channels to list: Slack shows only one's own.
    channels = {cid: name for cid, name in emu.channel_names().items() if cid[:1] != "G"}
    return Viewer(
        user_id=user_id,
        now=cfg.wall_clock(),
        tz=ZoneInfo(member.tz) if member else ZoneInfo("UTC"),
        users=emu.user_names(),
        channels=channels,
        usergroups={group: group for group in cfg.usergroups},
    )


def conversations(emu: Browsable, viewer: Viewer) -> list[Conversation]:
    """Every channel, and the viewer's own DM with the app (Slack shows nobody else's)."""
    found = [Conversation(cid, "#" + name) for cid, name in viewer.channels.items()]
    dm = emu.dm_channel(viewer.user_id)
    return [*found, Conversation(dm, emu.config.bot_name, is_dm=True)]


def page_data(
    emu: Browsable, state: WebState, *, user: str | None, channel: str | None, thread: str | None
) -> PageData:
    viewer = viewer_of(emu, user)
    choices = conversations(emu, viewer)
    current = next((c for c in choices if c.channel_id == channel), choices[0])
    messages = emu.messages(current.channel_id)
    if thread is not None:
        messages = [m for m in messages if m.ts == thread]
        thread = thread if messages else None
        messages = messages or emu.messages(current.channel_id)
    ephemerals = [
        (i, e)
        for i, e in enumerate(emu.ephemerals)
        if e.user == viewer.user_id and e.channel == current.channel_id and e.thread_ts == thread
    ]
    modal = state.open_view(emu.views, emu.view_triggers, viewer.user_id)
    errors = state.view_errors.get(str(modal.get("id")), {}) if modal else {}
    return PageData(
        viewer=viewer,
        team_name=emu.config.team_name,
        bot_user_id=emu.config.bot_user_id,
        people=people(emu),
        conversations=choices,
        channel=current,
        messages=messages,
        ephemerals=ephemerals,
        thread=thread,
        modal=modal,
        modal_errors=errors,
        notice=state.notices.get(viewer.user_id),
        version=version(emu, state),
    )


def version(emu: Browsable, state: WebState) -> str:
    """What page.js compares to know whether anything it shows may have changed."""
    return f"{emu.version}.{state.version}"
