"""SEAWALL_CONFIG: route patterns are matched in linear time, and a pattern that needs
backtracking is refused at load with one line saying why."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.config import ChannelRoute, load_file_config, load_settings
from bot.core.errors import ConfigError

# Python's re takes 2^n steps on this pattern against n "a"s and a mismatch at the end: with
# 5,000 it would not finish in our lifetime.
PATHOLOGICAL = r"(a+)+$"
LONG_LABEL = "a" * 5_000 + "!"


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seawall.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# A generous guard: pytest-timeout fails the test instead of hanging the suite if the pattern
# backtracks; the assertion is on the result.
@pytest.mark.timeout(20)
def test_a_catastrophic_pattern_matches_a_long_label_in_linear_time() -> None:
    route = ChannelRoute(channel="C0PAYMENTS", match_re={"service": PATHOLOGICAL})
    assert route.matches_labels({"service": LONG_LABEL}) is False
    assert route.matches_labels({"service": "a" * 5_000}) is True


def test_route_patterns_are_anchored_at_both_ends() -> None:
    route = ChannelRoute(channel="C0PAYMENTS", match_re={"service": "pay.*"})
    assert route.matches_labels({"service": "payments"}) is True
    assert route.matches_labels({"service": "not-payments"}) is False
    assert route.matches_labels({"team": "payments"}) is False


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(pay)\1", "backreferences"),
        (r"pay(?!ments)", "lookaround"),
        (r"(?<=x)pay", "lookaround"),
    ],
)
def test_a_pattern_that_needs_backtracking_is_refused_at_load_in_one_line(
    tmp_path: Path, pattern: str, reason: str
) -> None:
    path = write_config(
        tmp_path, f"routes:\n  - channel: C0PAYMENTS\n    match_re: {{service: '{pattern}'}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_file_config(path)
    [problem] = caught.value.problems
    assert "\n" not in problem
    assert "match_re.service" in problem
    assert "RE2" in problem
    assert reason in problem


def test_an_invalid_pattern_is_refused_with_the_engine_s_reason(tmp_path: Path) -> None:
    path = write_config(tmp_path, "routes:\n  - channel: C0X1\n    match_re: {service: '['}\n")
    with pytest.raises(ConfigError) as caught:
        load_file_config(path)
    [problem] = caught.value.problems
    assert "match_re.service" in problem
    assert "missing ]" in problem


def settings_with(**overrides: str) -> str:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SEAWALL_CHANNEL": "C0ALERTS",
        "ALERTMANAGER_WEBHOOK_TOKEN": "t",
        **overrides,
    }
    try:
        load_settings(env)
    except ConfigError as exc:
        return "\n".join(exc.problems)
    return ""


def test_an_app_level_token_as_the_bot_token_is_named_as_the_wrong_kind() -> None:
    problem = settings_with(SLACK_BOT_TOKEN="xapp-1-A0-1-abc")
    assert problem.startswith("SLACK_BOT_TOKEN is invalid: this is an app-level token (xapp-…)")
    assert "Bot User OAuth Token (xoxb-…)" in problem
    assert "SLACK_APP_TOKEN" in problem


def test_a_channel_name_is_accepted_with_or_without_its_hash() -> None:
    assert load_settings_value("alerts") == "#alerts"
    assert load_settings_value("#alerts") == "#alerts"
    assert load_settings_value("C0ALERTS") == "C0ALERTS"


def test_a_channel_that_is_neither_id_nor_name_says_where_to_find_the_id() -> None:
    problem = settings_with(SEAWALL_CHANNEL="Alerts Channel!")
    assert problem.startswith("SEAWALL_CHANNEL is invalid: 'Alerts Channel!' is neither")
    assert "About tab" in problem
    assert "regex" not in problem.lower()
    assert "pattern" not in problem.lower()


def load_settings_value(channel: str) -> str:
    return load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "SEAWALL_CHANNEL": channel,
            "ALERTMANAGER_WEBHOOK_TOKEN": "t",
        }
    ).seawall_channel


def test_checklists_per_kind_of_change_are_read_by_name(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "approvers:\n"
        "  change_checklist: ['Announced in #changes?']\n"
        "  checklists:\n"
        "    database:\n"
        "      match: [postgres, db, replica]\n"
        "      items: ['Replica lag under 10 s?', 'Backup less than a day old?']\n",
    )
    approvers = load_file_config(path).approvers
    assert approvers.change_checklist == ["Announced in #changes?"]
    assert approvers.checklists["database"].match == ["postgres", "db", "replica"]
    assert approvers.checklists["database"].items[0] == "Replica lag under 10 s?"


def test_a_checklist_without_items_or_with_a_bad_name_is_a_config_error(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        "approvers:\n  checklists:\n    database: {match: [db]}\n    Data Base: {items: [x]}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_file_config(path)
    problems = " | ".join(caught.value.problems)
    assert "approvers.checklists.database.items: Field required" in problems
    assert "Data Base" in problems


def test_sentinels_without_a_master_name_say_which_setting_is_missing() -> None:
    problem = settings_with(REDIS_SENTINELS="10.0.0.5:26379,10.0.0.6:26379")
    assert problem.startswith("REDIS_SENTINELS is set but REDIS_SENTINEL_MASTER is not")


def test_a_master_name_without_sentinels_is_refused() -> None:
    problem = settings_with(REDIS_SENTINEL_MASTER="seawall")
    assert problem.startswith("REDIS_SENTINEL_MASTER is set but REDIS_SENTINELS is not")


def test_a_sentinel_that_is_not_host_and_port_is_named() -> None:
    problem = settings_with(REDIS_SENTINELS="10.0.0.5:26379,10.0.0.6", REDIS_SENTINEL_MASTER="s")
    assert problem.startswith("REDIS_SENTINELS is invalid: '10.0.0.6' is not host:port")


def test_sentinels_are_read_as_addresses() -> None:
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "s",
            "SEAWALL_CHANNEL": "C0ALERTS",
            "ALERTMANAGER_WEBHOOK_TOKEN": "t",
            "REDIS_SENTINELS": " 10.0.0.5:26379, [::1]:26380 ",
            "REDIS_SENTINEL_MASTER": "seawall",
        }
    )
    assert settings.sentinel_addresses() == (("10.0.0.5", 26379), ("::1", 26380))


def test_the_chat_update_budget_defaults_under_slacks_tier_3_and_must_be_positive() -> None:
    base = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SEAWALL_CHANNEL": "C0ALERTS",
        "ALERTMANAGER_WEBHOOK_TOKEN": "t",
    }
    assert load_settings(base).seawall_updates_per_minute == 45
    raised = load_settings({**base, "SEAWALL_UPDATES_PER_MINUTE": "600"})
    assert raised.seawall_updates_per_minute == 600
    assert "SEAWALL_UPDATES_PER_MINUTE" in settings_with(SEAWALL_UPDATES_PER_MINUTE="0")


def test_the_storm_section_has_defaults_and_refuses_unknown_keys(tmp_path: Path) -> None:
    assert load_file_config(None).storm.threshold == 10
    assert load_file_config(None).storm.quiet.total_seconds() == 600
    path = write_config(tmp_path, "storm: {threshold: 25, quiet: 5m, summary_only: [Info]}\n")
    storm = load_file_config(path).storm
    assert (storm.threshold, storm.quiet.total_seconds(), storm.summary_only) == (25, 300, ["info"])
    with pytest.raises(ConfigError) as raised:
        load_file_config(write_config(tmp_path, "storm: {treshold: 25}\n"))
    assert "storm.treshold" in str(raised.value)
    with pytest.raises(ConfigError) as raised:  # a pass reads 100 cards: never reached
        load_file_config(write_config(tmp_path, "storm: {threshold: 100}\n"))
    assert "storm.threshold" in str(raised.value)
