"""Every Redis key Seawall writes, with what it holds and why it expires when it does.

All keys start with `seawall:`. Keys belonging to one card share the hash tag `{card_id}`
so that a later move to Redis Cluster keeps each card's keys in one slot.
"""

from __future__ import annotations

PREFIX = "seawall"


# Card document (JSON TriageCard with schema_version). No TTL: cards are the record of what
# was shown in Slack and are needed to update the message whenever the alert comes back.
def card(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}"


# Where the card lives in Slack: "channel ts". No TTL, like the card itself. Written only by
# the poster, so webhook writers and the poster never contend on the same key.
def card_message(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:message"


# Revision of the card last rendered to Slack: lets the poster tell "already shown" apart
# from "changed while I was posting". No TTL.
def card_posted_revision(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:posted"


# LIST of JSON ThreadReply waiting to be posted in the card's thread. Drained by the poster;
# no TTL so a reply survives a Slack outage of any length.
def card_replies(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:replies"


# Reverse index Slack message -> card id, for reactions and actions that only carry a ts.
# No TTL (same life as the card).
def message_card(channel: str, ts: str) -> str:
    return f"{PREFIX}:msg:{channel}:{ts}"


# ZSET of card ids whose latest revision is not yet in Slack, scored by when they first
# became dirty (ms), so the oldest waits least. Per channel: Slack paces per channel.
def outbox(channel: str) -> str:
    return f"{PREFIX}:outbox:{channel}"


# SET of channels that may have dirty cards; the poster's work list.
OUTBOX_CHANNELS = f"{PREFIX}:outbox:channels"

# LIST used only to wake a sleeping poster (BLPOP). Trimmed to a few entries; losing one is
# harmless because posters also poll.
OUTBOX_WAKE = f"{PREFIX}:outbox:wake"


# Lease on a channel's outbox so exactly one poster (of any process) sends to it.
# TTL = CHANNEL_LEASE_MS: a poster that dies releases the channel by expiry.
def channel_lease(channel: str) -> str:
    return f"{PREFIX}:lease:channel:{channel}"


CHANNEL_LEASE_MS = 30_000


# Present while a channel may not receive chat.postMessage (pacing ~1/s, or a 429's
# Retry-After). TTL = the wait itself, so the key *is* the limiter and needs no cleanup.
def channel_pause(channel: str) -> str:
    return f"{PREFIX}:pause:channel:{channel}"


# Present while a Web API method is rate limited workspace-wide (429 on chat.update...).
def method_pause(method: str) -> str:
    return f"{PREFIX}:pause:method:{method}"


# Alertmanager delivery already applied (digest of group, status and alert states).
# TTL: Alertmanager retries a notification for at most max(group_interval, 10 s) plus peer
# wait; 10 minutes covers that while letting genuine repeat notifications through.
def alertmanager_delivery(digest: str) -> str:
    return f"{PREFIX}:dedup:am:{digest}"


ALERTMANAGER_DELIVERY_TTL_S = 600


# Sentry delivery already applied (Request-ID header, else body digest). Sentry retries
# within minutes; an hour is ample.
def sentry_delivery(request_id: str) -> str:
    return f"{PREFIX}:dedup:sentry:{request_id}"


SENTRY_DELIVERY_TTL_S = 3600


# Slack Events API event_id seen. Slack retries up to 3 times over ~6 minutes, or hourly for
# 24 h with "Delayed Events" on; 25 h covers both.
def slack_event(event_id: str) -> str:
    return f"{PREFIX}:dedup:slack-event:{event_id}"


SLACK_EVENT_TTL_S = 25 * 3600


# One-shot guard for a user action on a card (double clicks): e.g. "ack", "silence".
# TTL: long enough to absorb double clicks and retries, short enough to allow a redo later.
def card_action_guard(card_id: str, action: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:guard:{action}"


CARD_ACTION_GUARD_TTL_S = 30


# Current revision of the card (integer), kept beside the JSON so the poster can compare it
# atomically in a script without parsing JSON. No TTL.
def card_revision(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:rev"


# ZSET of card ids whose Slack post failed for good (e.g. channel_not_found), scored by
# time. Kept for operators (`seawall check`, logs); a newer revision retries the card.
DEAD_LETTER = f"{PREFIX}:outbox:dead"


# Redis Stream: the append-only timeline of one incident (alerts, actions, steps, prompts,
# approvals, messages). No TTL and never trimmed: it is the postmortem's source.
def timeline(incident_id: str) -> str:
    return f"{PREFIX}:timeline:{{{incident_id}}}"


# Lease on a playbook run: the one worker advancing it holds this and renews it while a step
# runs. TTL = RUN_LEASE_MS: if that worker dies, the run is free again soon after.
def run_lease(run_id: str) -> str:
    return f"{PREFIX}:run:{{{run_id}}}:lease"


RUN_LEASE_MS = 10_000


# A slash command already acted on (by trigger_id): a retried or doubled command does not
# start a second run or incident. Trigger ids expire quickly; 10 minutes is ample.
def command_once(trigger_id: str) -> str:
    return f"{PREFIX}:dedup:command:{trigger_id}"


COMMAND_ONCE_TTL_S = 600


# Incident channel id -> incident id: messages and commands in a channel find their incident.
# No TTL: the channel stays the incident's record (late messages still join the timeline).
def incident_channel(channel: str) -> str:
    return f"{PREFIX}:incident:channel:{channel}"


# ZSET of open incident ids scored by declaration time (epoch s): `/incident status` outside
# an incident channel lists them. An incident leaves it when resolved; no TTL.
OPEN_INCIDENTS = f"{PREFIX}:incidents:open"


# One declaration per person and title at a time: "pending", then the incident id. Catches
# double submits and re-sent commands (each has a new trigger_id, so that cannot be the key).
# TTL: a double submit happens within seconds; two minutes later a re-declare is deliberate.
def incident_declare_once(user_id: str, title_digest: str) -> str:
    return f"{PREFIX}:dedup:incident-declare:{user_id}:{title_digest}"


INCIDENT_DECLARE_ONCE_TTL_S = 120


# --- paging (bot/paging) ------------------------------------------------------------------


# A page (JSON Page, bot/models/page.py): the ladder's state for one or more cards. No TTL
# while it is open (a ladder must never vanish); CLOSED_PAGE_TTL_S once acknowledged,
# resolved or exhausted, long enough to answer "already acknowledged by..." and to tell a
# flapping alert from a new one.
def page(page_id: str) -> str:
    return f"{PREFIX}:page:{{{page_id}}}"


CLOSED_PAGE_TTL_S = 7 * 24 * 3600


# The page a card belongs to. TTL CLOSED_PAGE_TTL_S, set again whenever the card joins a page:
# it outlives the flap window, which the page's own times decide.
def card_page(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:page"


# ZSET of pages nobody acknowledged that are not resolved (waiting, open, exhausted), scored
# by when they were raised (epoch s). A page leaves it when acknowledged or resolved, and an
# expired one when next read; no TTL.
OPEN_PAGES = f"{PREFIX}:pages:open"

# HASH person (or user group) paged first -> their open page: a new alert for someone who is
# already being paged joins that page instead of starting a second ladder. Fields are
# removed when the page closes; no TTL.
PAGES_BY_PERSON = f"{PREFIX}:pages:by-person"


# The page last raised for a person: a new alert within the storm window joins it even once
# acknowledged ("12 alert groups firing" is one page). TTL = oncall.storm_window.
def page_storm(person: str) -> str:
    return f"{PREFIX}:pages:storm:{person}"


# Nonce of a push's Acknowledge link (bot/paging/acklink.py) -> page id. Deleted when the link
# is used, so a replay is refused; TTL = the link's lifetime (ACK_LINK_TTL_S).
def ack_link_nonce(nonce: str) -> str:
    return f"{PREFIX}:pages:ack-link:{nonce}"


ACK_LINK_TTL_S = 2 * 3600


# Maintenance pause (/oncall pause): JSON {by, until}. TTL = the pause itself, so it ends on
# time even if no job runs.
ONCALL_PAUSE = f"{PREFIX}:oncall:pause"

# SET of cards that show the maintenance line, cleared when the pause ends. TTL: the pause
# plus a day, in case the job that clears it never runs.
PAUSE_CARDS = f"{PREFIX}:oncall:pause:cards"


# Overrides of a schedule (/oncall take, /oncall handover): JSON list. Expired entries are
# dropped on every write; TTL = when the last one ends.
def oncall_overrides(schedule: str) -> str:
    return f"{PREFIX}:oncall:overrides:{schedule}"


# When a heartbeat (oncall.heartbeats) last arrived, epoch seconds. One key per configured
# heartbeat; TTL 30 days so a heartbeat removed from the config does not linger.
def heartbeat_seen(name: str) -> str:
    return f"{PREFIX}:heartbeat:{name}:seen"


# The beat that went missing and has already paged (its epoch), so one outage pages once.
# Deleted when the heartbeat comes back; same TTL as heartbeat_seen.
def heartbeat_outage(name: str) -> str:
    return f"{PREFIX}:heartbeat:{name}:outage"


HEARTBEAT_KEY_TTL_S = 30 * 24 * 3600
