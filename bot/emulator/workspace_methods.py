"""auth.test, users.info, users.getPresence, dnd.info, usergroups.users.list,
conversations.open and views.open."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.emulator.blocks import validate_view
from bot.emulator.config import EmulatedUser
from bot.emulator.web_call import Method, Response, WebCall, error

MAX_VIEW_BYTES = 250_000


def auth_test(call: WebCall) -> Response:
    cfg = call.ws.config
    return {
        "ok": True,
        "url": f"https://{cfg.team_domain}.slack.com/",
        "team": cfg.team_name,
        "user": cfg.bot_name,
        "team_id": cfg.team_id,
        "user_id": cfg.bot_user_id,
        "bot_id": cfg.bot_id,
        "is_enterprise_install": False,
    }


def _user_record(user_id: str, user: EmulatedUser, team_id: str, now: float) -> dict[str, Any]:
    local = datetime.fromtimestamp(now, UTC).astimezone(ZoneInfo(user.tz))
    offset = local.utcoffset()
    real_name = user.real_name or user.name
    return {
        "id": user_id,
        "team_id": team_id,
        "name": user.name,
        "deleted": False,
        "real_name": real_name,
        "tz": user.tz,
        "tz_label": user.tz_label or local.tzname() or user.tz,
        "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "profile": {
            "real_name": real_name,
            "display_name": user.display_name if user.display_name is not None else user.name,
            "team": team_id,
        },
    }


def users_info(call: WebCall) -> Response:
    cfg = call.ws.config
    user_id = call.text_param("user")
    if user_id == cfg.bot_user_id:
        user = EmulatedUser(name=cfg.bot_name, is_bot=True)
    elif user_id is not None and user_id in cfg.users:
        user = cfg.users[user_id]
    else:
        return error("user_not_found")
    return {"ok": True, "user": _user_record(user_id, user, cfg.team_id, cfg.wall_clock())}


def _user_argument(call: WebCall) -> tuple[str, EmulatedUser] | Response:
    """The `user` argument (absent: the calling bot itself), or Slack's error for it."""
    cfg = call.ws.config
    user_id = call.text_param("user") or cfg.bot_user_id
    if user_id == cfg.bot_user_id:
        return user_id, EmulatedUser(name=cfg.bot_name, is_bot=True)
    user = cfg.users.get(user_id)
    if user is None:
        return error("user_not_found")
    return user_id, user


def dnd_info(call: WebCall) -> Response:
    """A user's Do Not Disturb schedule. Slack answers 1 for both times when there is none,
    and reports a snooze only to the user themself (never to a bot asking about them)."""
    found = _user_argument(call)
    if isinstance(found, dict):
        return found
    user_id, user = found
    start, end = user.dnd if user.dnd is not None else (1.0, 1.0)
    answer: Response = {
        "ok": True,
        "dnd_enabled": user.dnd is not None,
        "next_dnd_start_ts": int(start),
        "next_dnd_end_ts": int(end),
    }
    if user_id == call.ws.config.bot_user_id:
        answer["snooze_enabled"] = False
    return answer


def users_get_presence(call: WebCall) -> Response:
    found = _user_argument(call)
    if isinstance(found, dict):
        return found
    _, user = found
    return {"ok": True, "presence": user.presence}


def usergroups_users_list(call: WebCall) -> Response:
    usergroup = call.text_param("usergroup")
    if usergroup is None:
        return error("invalid_arguments", response_metadata={"messages": ["[ERROR] usergroup"]})
    members = call.ws.config.usergroups.get(usergroup)
    if members is None:
        return error("no_such_subteam")
    return {"ok": True, "users": list(members)}


def conversations_open(call: WebCall) -> Response:
    ws = call.ws
    existing = call.text_param("channel")
    if existing is not None:
        if existing not in ws.channels:
            return error("channel_not_found")
        return {"ok": True, "no_op": True, "already_open": True, "channel": {"id": existing}}
    users = [u.strip() for u in (call.text_param("users") or "").split(",") if u.strip()]
    if not users:
        return error("users_list_not_supplied")
    if any(not ws.known_user(u) for u in users):
        return error("user_not_found")
    if len(users) == 1:
        already = users[0] in ws.dm_by_user
        channel = ws.dm_channel(users[0])
    else:
        key = ",".join(sorted(users)).encode()
        channel = "G" + hashlib.sha256(key).hexdigest()[:10].upper()
        already = channel in ws.channels
        ws.channels[channel] = "mpdm-" + "--".join(sorted(users))
    return {"ok": True, "no_op": already, "already_open": already, "channel": {"id": channel}}


def views_open(call: WebCall) -> Response:
    ws = call.ws
    view = call.params.get("view")
    if not isinstance(view, dict):
        return error("invalid_arguments", response_metadata={"messages": ["[ERROR] view"]})
    if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
        return error("view_too_large")
    # Slack reports modal problems as invalid_arguments, not invalid_blocks.
    problems = validate_view(view)
    if problems:
        return error(
            "invalid_arguments",
            errors=problems,
            response_metadata={"messages": [f"[ERROR] {e}" for e in problems]},
        )
    trigger_problem = ws.exchange_trigger_id(call.text_param("trigger_id") or "")
    if trigger_problem:
        return error(trigger_problem)
    view_id = ws.next_id("V")
    opened = {
        **view,
        "id": view_id,
        "team_id": ws.config.team_id,
        "state": {"values": {}},
        "hash": f"{int(ws.config.wall_clock())}.{view_id}",
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "root_view_id": view_id,
        "previous_view_id": None,
        "app_id": ws.config.app_id,
        "bot_id": ws.config.bot_id,
    }
    ws.views.append(opened)
    # Slack shows a modal to whoever's click or command issued the trigger_id.
    ws.view_triggers[view_id] = call.text_param("trigger_id") or ""
    return {"ok": True, "view": opened}


WORKSPACE_METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.getPresence": users_get_presence,
    "dnd.info": dnd_info,
    "usergroups.users.list": usergroups_users_list,
    "conversations.open": conversations_open,
    "views.open": views_open,
}
