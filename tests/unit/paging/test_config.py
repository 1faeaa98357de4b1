"""The `oncall:` section: the contract's shapes parse; mistakes are refused at load."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from bot.core.config import FileConfig, Settings, paging_problems
from bot.core.paging_config import Oncall, url_label
from bot.core.times import parse_duration

# DESIGN.md "Paging", verbatim.
CONTRACT = """
oncall:
  schedules:
    primary: {timezone: Europe/Paris, rotation: weekly, handoff: "mon 09:00", members: [U0ALICE, U0BOB]}
  people:                      # how to reach each person; Slack DM is always step 0
    U0ALICE:
      notify:
        - {via: slack, after: 0s}
        - {via: "ntfy://ntfy.example.com/alice-7f3a?priority=5", after: 1m}   # any Apprise URL
        - {via: "pover://user@token?priority=emergency", after: 3m}
  escalation:                  # levels: a schedule, users or usergroups, each with an ack timeout
    - {notify: "schedule:primary", ack_timeout: 5m}
    - {notify: [U0CAROL], ack_timeout: 5m}
  repeat: 2                    # run the ladder again this many times, then post "nobody acked"
  page_on:                     # what pages; everything else only posts a card
    alertmanager: {severity: [critical, page]}
    sentry: {level: [fatal]}
  heartbeats:                  # dead-man's switch: page when these stop arriving
    - {name: watchdog, alertname: Watchdog, timeout: 10m}
"""  # noqa: E501


def oncall(**overrides: Any) -> Oncall:
    values = yaml.safe_load(CONTRACT)["oncall"]
    values.update(overrides)
    return Oncall.model_validate(values)


def test_the_contract_example_parses() -> None:
    config = FileConfig.model_validate(yaml.safe_load(CONTRACT)).oncall
    assert config is not None
    assert config.escalation[0].notify == ["schedule:primary"]
    assert config.escalation[1].ack_timeout == timedelta(minutes=5)
    assert [s.after for s in config.people["U0ALICE"].notify] == [
        timedelta(0),
        timedelta(minutes=1),
        timedelta(minutes=3),
    ]
    assert config.heartbeats[0].timeout == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172800)]
)
def test_durations_are_written_with_units(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["5", "", "5 minutes", "m5", "-1m"])
def test_a_duration_without_a_unit_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_a_ntfy_url_without_a_host_would_go_to_the_public_ntfy_sh_and_is_refused() -> None:
    people = {"U0ALICE": {"notify": [{"via": "ntfy://alice-7f3a", "after": "1m"}]}}
    with pytest.raises(ValidationError, match=r"public ntfy\.sh"):
        oncall(people=people)


def test_the_public_ntfy_sh_is_allowed_when_asked_for_explicitly() -> None:
    people = {"U0ALICE": {"notify": [{"via": "ntfy://alice-7f3a?mode=cloud", "after": "1m"}]}}
    assert oncall(people=people).has_push_steps()


def test_an_apprise_url_apprise_cannot_read_is_refused_without_echoing_it() -> None:
    people = {"U0ALICE": {"notify": [{"via": "nosuchservice://secret-token", "after": "1m"}]}}
    with pytest.raises(ValidationError) as raised:
        oncall(people=people)
    assert "secret-token" not in str(raised.value).split("input_value")[0]


def test_ntfy_actions_are_seawalls_own() -> None:
    via = "ntfy://ntfy.example.com/alice?actions=view,Open,https://x"
    with pytest.raises(ValidationError, match="Acknowledge action"):
        oncall(people={"U0ALICE": {"notify": [{"via": via}]}})


def test_the_slack_dm_is_step_0_and_added_when_left_out() -> None:
    config = oncall(
        people={"U0BOB": {"notify": [{"via": "ntfy://n.example.com/b", "after": "1m"}]}}
    )
    assert [s.via for s in config.person("U0BOB").notify] == ["slack", "ntfy://n.example.com/b"]
    with pytest.raises(ValidationError, match="step 0"):
        oncall(people={"U0BOB": {"notify": [{"via": "slack", "after": "1m"}]}})


def test_an_escalation_level_naming_an_unknown_schedule_is_refused() -> None:
    with pytest.raises(ValidationError, match="no schedule 'secondary'"):
        oncall(escalation=[{"notify": "schedule:secondary", "ack_timeout": "5m"}])


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        oncall(escalaton=[])


def test_push_steps_need_the_public_url_and_the_ack_secret() -> None:
    config = FileConfig.model_validate(yaml.safe_load(CONTRACT))
    settings = Settings.model_validate(
        {
            "slack_bot_token": "x",
            "slack_signing_secret": "y",
            "seawall_channel": "C0ALERTS",
            "alertmanager_webhook_token": "z",
        }
    )
    problems = paging_problems(settings, config)
    assert [p.split(" ")[0] for p in problems] == ["SEAWALL_PUBLIC_URL", "SEAWALL_ACK_SECRET"]
    ready = settings.model_copy(
        update={"seawall_public_url": "https://s.example.com", "seawall_ack_secret": "k" * 32}
    )
    assert paging_problems(ready, config) == []


def test_url_labels_never_show_secrets() -> None:
    assert url_label("pover://user@token?priority=emergency") == "pover://…"
    assert url_label("ntfy://ntfy.example.com/alice-7f3a?priority=5") == "ntfy://ntfy.example.com"
