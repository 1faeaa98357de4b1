"""The replication slot watch as a feature: its job, run on the schedule `playbooks.slot-lag
.watch.interval` asks for (no schedule when slot-lag is not configured). The look and the
actions are the slot-lag playbook (`/playbook slot-lag`), which needs nothing here; Acknowledge
and Declare incident on a watch card are the triage buttons every card shares."""

from __future__ import annotations

from collections.abc import Sequence

from bot.deps import Deps
from handlers.slack.feature import Cron, Feature
from playbooks.catalog.slot_lag import watch
from playbooks.catalog.slot_lag.settings import configured


def cron(deps: Deps) -> Sequence[Cron]:
    settings = configured(deps.config)
    return [Cron(watch.JOB, settings.watch.interval)] if settings is not None else []


FEATURE = Feature(name="slot-watch", jobs={watch.JOB: watch.watch}, cron=cron)
