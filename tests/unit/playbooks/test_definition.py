"""A playbook says, for every step, what stands before it: a gate, or why it needs none."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from playbooks.catalog.quarantine import PLAYBOOK as QUARANTINE
from playbooks.definition import Playbook, Step, StepContext
from playbooks.params import help_text


class Params(BaseModel):
    target: str


async def noop(ctx: StepContext) -> str:
    return "ok"


def playbook(*steps: Step) -> Playbook:
    return Playbook("sample", "A sample", Params, steps)


def test_a_step_that_may_change_things_without_a_gate_or_a_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="must be gated"):
        playbook(Step("restart", "Restart {target}", noop))


@pytest.mark.parametrize(
    "step",
    [
        Step("look", "Look at {target}", noop, read_only=True),
        Step("note", "Note {target}", noop, ungated="writes a note nobody acts on"),
        Step("drain", "Drain {target}", noop, destructive=True),
        Step("failover", "Fail {target} over", noop, four_eyes=True),
    ],
)
def test_a_gate_or_a_declaration_makes_a_step_acceptable(step: Step) -> None:
    assert playbook(step).steps == (step,)


def test_help_shows_what_stands_before_each_step() -> None:
    text = help_text(
        playbook(
            Step("look", "Look at {target}", noop, read_only=True),
            Step("note", "Note {target}", noop, ungated="writes a note nobody acts on"),
            Step("drain", "Drain {target}", noop, destructive=True, high_risk=True, undo=noop),
        )
    )
    assert "Look at &lt;target&gt; _(reads only)_" in text
    assert "_(no gate: writes a note nobody acts on)_" in text
    assert "_(step-back prompt, type the target to confirm; can be rolled back)_" in text


def test_quarantine_changes_nothing_before_its_one_gated_step() -> None:
    kinds = [(s.name, s.read_only, s.destructive, s.undo is not None) for s in QUARANTINE.steps]
    assert kinds == [
        ("check", True, False, False),
        ("swap", False, True, True),
        ("relabel", False, True, True),
        ("report", True, False, False),
    ]
    params = QUARANTINE.params(target="web-3")
    plan = [s.name for s in QUARANTINE.plan(params, {"haproxy_socket": "/s", "backend": "b"})]
    assert plan == ["check", "swap", "report"]  # one gated step per plan, by provider
    plan = [s.name for s in QUARANTINE.plan(params, {"provider": "kubernetes"})]
    assert plan == ["check", "relabel", "report"]


class Backend(BaseModel):
    target: str
    backend: str = ""


def test_plan_fills_rollback_and_blast_radius_from_the_playbooks_settings() -> None:
    step = Step(
        "drain",
        "Drain {target} in {backend}",
        noop,
        destructive=True,
        rollback="set server {backend}/{target} state ready",
        blast_radius="{target} leaves {backend}; {spares} stand by",
    )
    settings = {"backend": "web", "spares": ["spare-1", "spare-2"], "socket": {"path": "/x"}}
    [planned] = playbook(step).plan(Params(target="web-3"), settings)
    assert planned.description == "Drain web-3 in web"
    assert planned.rollback == "set server web/web-3 state ready"
    assert planned.blast_radius == "web-3 leaves web; spare-1, spare-2 stand by"


def test_a_parameter_wins_over_a_setting_of_the_same_name() -> None:
    step = Step("drain", "Drain {target} in {backend}", noop, destructive=True)
    plan = Playbook("sample", "A sample", Backend, (step,)).plan(
        Backend(target="web-3", backend="api"), {"backend": "web"}
    )
    assert plan[0].description == "Drain web-3 in api"


def test_a_placeholder_nothing_fills_stays_visible_as_a_gap_to_fill_in() -> None:
    step = Step("drain", "Drain {target}", noop, destructive=True, rollback="undo {backend}")
    [planned] = playbook(step).plan(Params(target="web-3"))
    assert planned.rollback == "undo <backend>"


def test_a_playbook_may_derive_text_from_its_settings() -> None:
    step = Step("drain", "Drain {target}", noop, destructive=True, rollback="then {hint}")
    book = Playbook(
        "sample",
        "A sample",
        Params,
        (step,),
        texts=lambda settings: {"hint": f"ssh {settings.get('jump', '?')}"},
    )
    assert book.plan(Params(target="web-3"), {"jump": "bastion"})[0].rollback == "then ssh bastion"
