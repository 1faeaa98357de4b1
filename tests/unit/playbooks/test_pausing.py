"""pause-workers' settings (the DESIGN.md contract), the target a command may name, and when
a second person is needed: pure, no I/O."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from pydantic import ValidationError

from bot.core.errors import SeawallError
from playbooks.catalog import pause_workers, resume_workers
from playbooks.params import ParamError, parse_params
from playbooks.pausing import Params, Settings, settings_of, target_of
from playbooks.providers.workers import CeleryTarget, KubernetesTarget

CONTRACT = """
targets:
  emails:  {backend: celery, broker: "redis://127.0.0.1:6379/1", queues: [emails]}
  billing: {backend: kubernetes, namespace: prod, deployment: billing-worker}
ramp: [1, 25%, 50%, 100%]
ramp_wait: 60s
"""


def test_the_design_contract_parses_as_written() -> None:
    settings = Settings.model_validate(yaml.safe_load(CONTRACT))
    assert isinstance(settings.targets["emails"], CeleryTarget)
    assert settings.targets["emails"].queues == ["emails"]
    billing = settings.targets["billing"]
    assert isinstance(billing, KubernetesTarget)
    assert (billing.namespace, billing.deployment) == ("prod", "billing-worker")
    assert settings.ramp == ["1", "25%", "50%", "100%"]
    assert settings.ramp_wait == timedelta(seconds=60)


@pytest.mark.parametrize(
    "target",
    [
        {"backend": "celery", "broker": "redis://x", "queues": ["emails"], "queue": "typo"},
        {"backend": "nomad", "job": "x"},
        {"backend": "kubernetes", "namespace": "Prod!", "deployment": "x"},
        {"backend": "celery", "broker": "redis://x", "queues": ["a b"]},
        {"backend": "command", "scale": ["sh", "-c", "x"], "replicas": 0},
        {"backend": "celery", "broker": "redis://x", "queues": ["q"], "alerts": ["service=x"]},
    ],
)
def test_a_target_setting_that_cannot_be_right_is_refused(target: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings.model_validate({"targets": {"t": target}})


def test_missing_or_broken_settings_are_one_sentence_that_says_nothing_changed() -> None:
    with pytest.raises(SeawallError, match=r"add playbooks\.pause-workers\.targets"):
        settings_of({})
    with pytest.raises(SeawallError, match=r"targets\.t.*nothing was changed"):
        settings_of({"targets": {"t": {"backend": "nomad"}}})


def test_a_target_not_configured_is_named_with_the_ones_that_are() -> None:
    settings = Settings.model_validate(yaml.safe_load(CONTRACT))
    with pytest.raises(SeawallError, match=r"configured: billing, emails"):
        target_of(settings, "payments")


@pytest.mark.parametrize("text", ["payments", '"emails; rm -rf /"', "../emails", ""])
def test_slash_command_targets_must_name_a_configured_target(text: str) -> None:
    section = yaml.safe_load(CONTRACT)
    with pytest.raises(ParamError):
        parse_params(pause_workers.PLAYBOOK, text, section)
    assert parse_params(pause_workers.PLAYBOOK, "emails", section).model_dump() == {
        "target": "emails"
    }


def test_a_stored_run_is_read_back_without_the_settings_of_the_day() -> None:
    assert Params.model_validate({"target": "emails"}).model_dump() == {"target": "emails"}


def test_four_eyes_comes_from_the_target_and_fails_safe() -> None:
    section = yaml.safe_load(CONTRACT)
    section["targets"]["billing"]["four_eyes"] = True
    for playbook in (pause_workers.PLAYBOOK, resume_workers.PLAYBOOK):
        gated = next(s for s in playbook.plan(Params(target="billing"), section) if s.destructive)
        plain = next(s for s in playbook.plan(Params(target="emails"), section) if s.destructive)
        broken = next(
            s for s in playbook.plan(Params(target="emails"), {"targets": 3}) if s.destructive
        )
        assert (gated.four_eyes, plain.four_eyes, broken.four_eyes) == (True, False, True)


def test_resume_reads_the_pause_workers_section() -> None:
    sections = {"pause-workers": {"targets": {}}, "resume-workers": {"x": 1}}
    assert resume_workers.PLAYBOOK.settings_in(sections) == {"targets": {}}
    assert pause_workers.PLAYBOOK.settings_in(sections) == {"targets": {}}


def test_the_readme_example_is_valid_for_both_playbooks() -> None:
    from pathlib import Path

    from playbooks.providers.haproxy_isolation import HAProxySettings

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    after = readme.split("The YAML file named by `SEAWALL_CONFIG`", 1)[1]
    block = yaml.safe_load(after.split("```yaml\n", 1)[1].split("```", 1)[0])
    settings = settings_of(block["playbooks"]["pause-workers"])
    assert set(settings.targets) == {"emails", "billing"}
    assert settings.targets["billing"].four_eyes
    assert settings.ramp == ["1", "25%", "50%", "100%"]
    assert HAProxySettings.model_validate(block["playbooks"]["quarantine"]).backend == "web"


def test_seawall_check_names_a_broken_section_and_warns_of_alerts_it_cannot_read() -> None:
    from playbooks.pausing import preflight

    assert preflight({}, None) == ([], [])
    problems, _ = preflight({"pause-workers": {"targets": {"t": {"backend": "nomad"}}}}, None)
    assert len(problems) == 1
    assert problems[0].startswith("playbooks.pause-workers in SEAWALL_CONFIG is not valid")
    section = yaml.safe_load(CONTRACT)
    section["targets"]["billing"]["alerts"] = ['service="billing"']
    assert preflight({"pause-workers": section}, "http://am:9093") == ([], [])
    _, warnings = preflight({"pause-workers": section}, None)
    assert warnings == [
        "pause-workers: target billing watches alerts but ALERTMANAGER_URL is not set: its "
        "resume ramp will stop at every step"
    ]
