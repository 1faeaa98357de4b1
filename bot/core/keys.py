"""Every Redis key Seawall writes, with what it holds and why it expires when it does.

All keys start with `seawall:`. Keys belonging to one card share the hash tag `{card_id}`
so that a later move to Redis Cluster keeps each card's keys in one slot.

Nothing grows forever: every key has a TTL, or is bounded by construction and says so here.
Retention settings are `retention:` in SEAWALL_CONFIG (bot/core/config.py: Retention); which
cards are closed is bot/models/lifecycle.py. The job queue's keys (prefix `saq:`) are saq's own.
"""

from __future__ import annotations

PREFIX = "seawall"


# Card document (JSON TriageCard with schema_version). No TTL while its subject is open: it is
# needed to update the Slack message whenever something happens. Once closed (alert group
# resolved, Sentry issue resolved/ignored, run finished, prompt decided, approval ended,
# incident resolved) it expires retention.resolved_cards (30 d) after its last write; a resolved
# incident's card as long as its timeline (90 d), for the postmortem. Opening again (a group
# firing again) makes it and all its keys below permanent again (bot/store.py).
def card(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}"


# Where the card lives in Slack: "channel ts". The card's TTL: set in the card's transaction,
# and copied from the card's PTTL when the poster writes it later. Written only by the poster,
# so webhook writers and the poster never contend on the same key.
def card_message(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:message"


# Revision of the card last rendered to Slack: lets the poster tell "already shown" apart
# from "changed while I was posting". The card's TTL, like card_message.
def card_posted_revision(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:posted"


# LIST of JSON ThreadReply waiting to be posted in the card's thread. Drained by the poster
# (the key goes when empty); the card's TTL, so a reply survives a Slack outage as long as
# the card does.
def card_replies(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:replies"


# Reverse index Slack message -> card id, for reactions and actions that only carry a ts.
# The card's TTL, like card_message (written with it); a clicked card that expired answers
# "no longer in Seawall's store".
def message_card(channel: str, ts: str) -> str:
    return f"{PREFIX}:msg:{channel}:{ts}"


# ZSET of card ids whose latest revision is not yet in Slack, scored by when they first
# became dirty (ms), so the oldest waits least. Per channel: Slack paces per channel. No TTL:
# a card leaves once shown (or set aside), so it holds at most the cards not yet in Slack.
def outbox(channel: str) -> str:
    return f"{PREFIX}:outbox:{channel}"


# SET of channels that may have dirty cards; the poster's work list. No TTL: bounded by the
# channels, and a channel leaves once its outbox is empty (the key goes with the last one).
OUTBOX_CHANNELS = f"{PREFIX}:outbox:channels"

# LIST used only to wake a sleeping poster (BLPOP). No TTL: trimmed to 16 entries on every
# write; losing one is harmless because posters also poll.
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


# Sentry delivery already seen: "sha256:<digest of the signed body>" always, and
# "rid:<Request-ID>" when sent. The body digest is what stops a replay: Sentry signs only the
# body, so a captured delivery can be re-sent with any Request-ID. TTL: Sentry's own retries
# come within minutes; a day covers the time in which a replayed body could still set a state
# the card has not moved on from (after that, bot/sentry/rules.py refuses snapshots older than
# the stored one), while keys stay bounded by one day of deliveries.
def sentry_delivery(identity: str) -> str:
    return f"{PREFIX}:dedup:sentry:{identity}"


SENTRY_DELIVERY_TTL_S = 24 * 3600


# Slack Events API event_id seen. Slack retries up to 3 times over ~6 minutes, or hourly for
# 24 h with "Delayed Events" on; 25 h covers both.
def slack_event(event_id: str) -> str:
    return f"{PREFIX}:dedup:slack-event:{event_id}"


SLACK_EVENT_TTL_S = 25 * 3600


# A signed Slack request (command, click, modal) already handled: digest of its timestamp and
# body. Slack's signature is accepted while |now - timestamp| <= 5 min, so one signed request
# can be replayed for up to 10 minutes of our clock (either side of its timestamp, whatever the
# skew); the key lives that long, so every replay that would pass the signature check is caught.
def slack_request(digest: str) -> str:
    return f"{PREFIX}:dedup:slack-request:{digest}"


SLACK_SIGNATURE_WINDOW_S = 300
SLACK_REQUEST_TTL_S = 2 * SLACK_SIGNATURE_WINDOW_S


# One-shot guard for a user action on a card (double clicks): e.g. "ack", "silence".
# TTL: long enough to absorb double clicks and retries, short enough to allow a redo later.
def card_action_guard(card_id: str, action: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:guard:{action}"


CARD_ACTION_GUARD_TTL_S = 30


# A post of the card's message (or of one thread reply) that may have reached Slack without
# Slack's answer being recorded: "<kind> <epoch ms>" written, and confirmed on a replica,
# before chat.postMessage; deleted once the message's ts is recorded (or Slack refused).
# A poster that finds it looks the message up in Slack (its metadata names the card) instead
# of posting a second copy (bot/post_intents.py). TTL POSTING_TTL_S: far longer than any
# post takes; a card that is never posted again needs it no longer.
def card_posting(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:posting"


POSTING_TTL_S = 24 * 3600


# Written last, on the same connection, by every write Seawall acknowledges (a webhook's
# 200, a playbook step about to run): the replication stream is one ordered log, so a replica
# that acknowledged this key (WAIT) has every write the primary applied before it, from any
# connection (bot/core/replication.py). Its value means nothing; TTL a minute, and every
# acknowledgement rewrites it, so it is one small key at any time.
REPLICATION_MARKER = f"{PREFIX}:replication-marker"
REPLICATION_MARKER_TTL_MS = 60_000


# Current revision of the card (integer), kept beside the JSON so the poster can compare it
# atomically in a script without parsing JSON. The card's TTL (same transaction).
def card_revision(card_id: str) -> str:
    return f"{PREFIX}:card:{{{card_id}}}:rev"


# ZSET of card ids whose Slack post failed for good (e.g. channel_not_found), scored by
# time. Kept for operators (`seawall check`, logs); a newer revision retries the card. No TTL
# on the set: every write drops entries older than DEAD_LETTER_MAX_AGE_S and all but the
# newest DEAD_LETTER_MAX, so a channel that refuses every card cannot grow it without end.
DEAD_LETTER = f"{PREFIX}:outbox:dead"
DEAD_LETTER_MAX = 1000
DEAD_LETTER_MAX_AGE_S = 30 * 24 * 3600


# Redis Stream: the append-only timeline of one incident (alerts, actions, steps, prompts,
# approvals, messages): the postmortem's source. No TTL while the incident is open; once it
# is resolved, retention.timelines (90 d: the postmortem window). Trimmed on every append to
# about retention.timeline_max_entries (10,000: far more than an incident writes, far less
# than a runaway loop would). Only the declaration starts one kept for good: a late entry for
# an incident whose timeline expired starts one that expires after retention.timelines too.
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
# No TTL while the incident is open; once resolved, the timeline's TTL (late messages still
# join the timeline until then).
def incident_channel(channel: str) -> str:
    return f"{PREFIX}:incident:channel:{channel}"


# ZSET of open incident ids scored by declaration time (epoch s): `/incident status` outside
# an incident channel lists them. No TTL: it holds open incidents only; one leaves when
# resolved, and an id whose card is gone or resolved is dropped when the set is read.
OPEN_INCIDENTS = f"{PREFIX}:incidents:open"


# One declaration per person and title at a time: "pending", then the incident id. Catches
# double submits and re-sent commands (each has a new trigger_id, so that cannot be the key).
# TTL: a double submit happens within seconds; two minutes later a re-declare is deliberate.
def incident_declare_once(user_id: str, title_digest: str) -> str:
    return f"{PREFIX}:dedup:incident-declare:{user_id}:{title_digest}"


INCIDENT_DECLARE_ONCE_TTL_S = 120


# ZSET of worker id -> time of its last heartbeat (epoch s), written by every `seawall worker`
# every WORKER_HEARTBEAT_S. One key for all workers, so /readyz learns "how long since any worker
# was seen" and "how many are alive" in one round trip, without SCAN. Each beat drops members
# silent for a day and renews a day's TTL on the key: it never grows beyond the workers of the
# last day, and vanishes a day after the last worker.
WORKERS = f"{PREFIX}:workers"

WORKER_HEARTBEAT_S = 10
WORKERS_TTL_S = 24 * 3600


# One change (a deploy reported by the change webhook, an approved change carried out, a
# playbook run that changed something): JSON Change. TTL = retention.changes: "what changed?"
# looks back hours, the postmortem keeps its own copy in the timeline.
def change(change_id: str) -> str:
    return f"{PREFIX}:change:{{{change_id}}}"


# ZSET of change ids scored by when the change happened (epoch ms), for "what changed in the
# window before this alert". Trimmed on every write to retention.changes and CHANGES_MAX.
CHANGES = f"{PREFIX}:changes"
CHANGES_MAX = 10_000


# A change webhook delivery already recorded (digest of its body): a CI retry must not record
# a deploy twice. TTL: 10 minutes, longer than CI tools retry; the same body later is a new
# deploy (the same service shipped again).
def change_delivery(digest: str) -> str:
    return f"{PREFIX}:dedup:change:{digest}"


CHANGE_DELIVERY_TTL_S = 600


# LIST of JSON samples of one database's replication slots (WAL position, each slot's
# restart and confirmed positions, when it was first seen inactive), newest first: written by
# the slot watch every interval and by every /playbook slot-lag look, read to measure WAL
# rates "over the last minute" (bot/slots/rules.py). Trimmed to SLOT_SAMPLES_MAX on each
# write; TTL SLOT_SAMPLES_TTL_S, renewed on each write: a sample older than a few minutes
# measures nothing, so a database nobody watches leaves nothing behind.
def slot_samples(database: str) -> str:
    return f"{PREFIX}:slots:{{{database}}}:samples"


SLOT_SAMPLES_MAX = 30
SLOT_SAMPLES_TTL_S = 900


# SET of the slots of one database whose watch card is firing. A slot dropped between two
# checks is no longer in pg_replication_slots, and its card must still be resolved. No TTL:
# a member leaves when its card resolves, so it never holds more than the database's slots.
def slot_watch_open(database: str) -> str:
    return f"{PREFIX}:slots:{{{database}}}:watch-open"


# Consecutive watch checks of one database that failed (INCR): the card saying the watch
# cannot check it is raised from the second, so one network blip pages nobody. Deleted by a
# check that succeeds; TTL three watch intervals (at least a minute), so only failures of
# consecutive checks add up.
def slot_watch_failures(database: str) -> str:
    return f"{PREFIX}:slots:{{{database}}}:watch-failures"


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


# JSON: what a target of pause-workers ran before Seawall paused it (replicas, or Celery
# workers and their pool sizes), who paused it, and which resume-workers run is ramping it
# back. No TTL while the target is paused, on purpose: it is what "100%" means when the
# target resumes, however long the pause lasts, and losing it would leave the target paused
# with nobody knowing its size. Bounded by the configured targets (one key each). Once a
# resume reaches 100% it is marked resumed and expires a day later (a re-run of that last
# step after a crash must still recognise it; a new pause starts a fresh record).
def paused_target(target: str) -> str:
    return f"{PREFIX}:paused-target:{{{target}}}"


PAUSED_TARGET_RESUMED_TTL_S = 24 * 3600


# A run started on behalf of a step (e.g. the undo of pause-workers starts resume-workers),
# claimed per origin ("<run>:<step>") so a re-run of that undo starts no second run. TTL: a
# re-run comes within minutes (a worker's job retried); a day is ample.
def follow_up_run(origin: str) -> str:
    return f"{PREFIX}:dedup:follow-up:{origin}"


FOLLOW_UP_RUN_TTL_S = 24 * 3600


# --- storms (bot/storm) ---------------------------------------------------------------------


# The card id of the storm a channel is in (bot/storm/flow.py). No TTL: one key per channel at
# most, deleted when the storm ends (everything resolved, or quiet for `storm.quiet`). A quiet
# check that never ran (a lost job) is made up by the channel's next alert card, whose pass
# looks at the storm again and ends it.
def storm(channel: str) -> str:
    return f"{PREFIX}:storm:{channel}"


# SET of the alert-group cards a storm card lists (its members). No TTL while the storm lasts
# (bounded by the storm's groups); once it ends, the storm card's own retention, so the buttons
# of an ended storm card still find its groups.
def storm_members(storm_card_id: str) -> str:
    return f"{PREFIX}:card:{{{storm_card_id}}}:members"


# ZSET of the new alert cards a channel's poster saw lately (card id -> ms), so a storm that
# starts also lists the groups posted in the seconds before it was recognised. Trimmed to
# STORM_RECENT_S on every write; TTL twice that.
def storm_recent(channel: str) -> str:
    return f"{PREFIX}:storm:{channel}:recent"


STORM_RECENT_S = 60


# Present while the storm card may not be rebuilt (it was rebuilt less than STORM_REFRESH_MS
# ago): latest state wins, and chat.update is Tier 3. TTL = the wait itself.
def storm_refresh_pause(channel: str) -> str:
    return f"{PREFIX}:pause:storm:{channel}"


STORM_REFRESH_MS = 2_000


# HASH token bucket shared by every poster: chat.update calls (Tier 3, ~50/min per workspace).
# Fields: tokens left, and when they were counted (Redis's own clock). TTL: the time to fill up
# again, after which a missing bucket is a full one.
CHAT_UPDATE_BUDGET = f"{PREFIX}:budget:chat.update"
CHAT_UPDATE_PER_MINUTE = 45  # under Slack's 50 (the emulator enforces 50), room for others
CHAT_UPDATE_BURST = 10
