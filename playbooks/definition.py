"""How a playbook is declared: a name, a parameter model, and ordered steps with gates.

A playbook module defines `PLAYBOOK = Playbook(...)`; the registry finds it. Nothing in the
engine changes when a playbook is added (docs/playbooks.md).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot.deps import Deps
from bot.models.run import PlaybookRun, StepRecord

NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")


@dataclass
class StepContext:
    """What a step's code gets: the services, its run, its typed parameters and settings."""

    deps: Deps
    run: PlaybookRun
    params: BaseModel
    step: StepRecord
    settings: dict[str, Any]  # this playbook's section of SEAWALL_CONFIG `playbooks:`
    attempt: int
    # What the step notes for its undo (e.g. which spare it brought in); stored with the step
    # when it succeeds, and handed back to the undo code.
    facts: dict[str, str] = field(default_factory=dict)
    # A step that returned `Later` with choices is run again with the one a person pressed.
    choice: str | None = None
    chosen_by: str | None = None


# A step's code returns a short human-readable result (shown on the run card), or None.
StepCode = Callable[[StepContext], Awaitable[str | None]]
# Placeholders a playbook derives from its settings for its step texts (e.g. which spare a
# rollback puts back). Settings are not validated yet when a run is planned: fail safe.
SettingTexts = Callable[[Mapping[str, Any]], Mapping[str, str]]


class _Gaps(dict[str, Any]):
    """Values for str.format_map; a placeholder nothing fills stays visible as `<name>`, for
    the human reading the text to fill in (a run never fails to start over a text)."""

    def __missing__(self, key: str) -> str:
        return f"<{key}>"


def _setting_value(value: Any) -> Any:
    """A setting as a step text shows it: plain values as they are, lists of them joined;
    None for sections (mappings), which only a playbook's `texts` may turn into words."""
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple) and all(
        isinstance(v, str | int | float | bool) for v in value
    ):
        return ", ".join(str(v) for v in value)
    return None


@dataclass(frozen=True)
class Condition:
    """Decided once, when a run starts, from its parameters and this playbook's settings
    (its section of `playbooks:`, unvalidated: a test should fail safe). The run keeps the
    outcome in its plan, so the card and the gates show what was decided then."""

    test: Callable[[BaseModel, Mapping[str, Any]], bool] = field(repr=False)
    words: str  # how --help says it, e.g. "when drop= is given"


@dataclass(frozen=True)
class Step:
    name: str
    # Texts may use {placeholders}: the run's parameters, this playbook's settings and what
    # its `texts` derives from them (Playbook.plan). description is shown before the step runs.
    description: str
    run: Callable[[StepContext], Awaitable[StepOutcome]] = field(repr=False)
    destructive: bool = False  # needs the step-back prompt and the operator's confirm
    four_eyes: bool = False  # needs approval by a different authorised person
    idempotent: bool = False  # safe to run again after an interruption (else a human decides)
    high_risk: bool = False  # confirm by typing the target's name
    rollback: str | None = None  # how to undo it, in words
    blast_radius: str | None = None  # who or what is affected
    target: str | None = None  # the parameter naming what this step acts on
    # A step that changes a system must be gated (destructive / four_eyes); one that does not
    # says so: `read_only=True`, or `ungated="why it is safe to run without a gate"`.
    read_only: bool = False
    ungated: str | None = None
    undo: StepCode | None = field(default=None, repr=False)  # code that undoes it (Roll back)
    only_if: Condition | None = None  # in the plan only when this holds (e.g. an optional action)
    four_eyes_if: Condition | None = None  # four-eyes also when this holds (e.g. production)

    @property
    def gated(self) -> bool:
        return self.destructive or self.four_eyes


@dataclass(frozen=True)
class Playbook:
    name: str
    summary: str
    params: type[BaseModel]
    steps: tuple[Step, ...]
    positional: tuple[str, ...] = ()  # parameters accepted without `name=` (in this order)
    texts: SettingTexts | None = field(default=None, repr=False)  # more {placeholders}
    # Which section of SEAWALL_CONFIG `playbooks:` it reads; None: its own name. Two playbooks
    # of one feature may share one (resume-workers reads pause-workers' targets and ramp).
    settings_key: str | None = None

    def settings_in(self, sections: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        """This playbook's settings out of `playbooks:` (empty when it has none)."""
        return dict(sections.get(self.settings_key or self.name, {}))

    def __post_init__(self) -> None:
        if not NAME.fullmatch(self.name):
            raise ValueError(f"playbook name {self.name!r} must match {NAME.pattern}")
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"playbook {self.name}: step names must be unique")
        fields = self.params.model_fields
        for step in self.steps:
            if step.target is not None and step.target not in fields:
                raise ValueError(f"step {step.name}: target {step.target!r} is not a parameter")
            if not (step.gated or step.read_only or step.ungated):
                raise ValueError(
                    f"playbook {self.name}, step {step.name}: a step that changes a system "
                    "must be gated (destructive=True or four_eyes=True); if it changes "
                    "nothing, say read_only=True; if it is safe without a gate, say why "
                    'with ungated="..."'
                )
            if step.read_only and step.gated:
                raise ValueError(
                    f"playbook {self.name}, step {step.name}: a read-only step needs no gate"
                )
        for name in self.positional:
            if name not in fields:
                raise ValueError(f"positional {name!r} is not a parameter of {self.name}")

    def plan(
        self, params: BaseModel, settings: Mapping[str, Any] | None = None
    ) -> list[StepRecord]:
        """The steps as they will run with these parameters and this playbook's settings (its
        section of SEAWALL_CONFIG `playbooks:`): their texts filled in once, at the start;
        steps whose `only_if` does not hold left out."""
        settings = settings or {}
        values = self.text_values(params, settings)

        def fill(text: str | None) -> str | None:
            return text.format_map(values) if text else None

        return [
            StepRecord(
                name=step.name,
                description=step.description.format_map(values),
                destructive=step.destructive,
                four_eyes=step.four_eyes
                or (step.four_eyes_if is not None and step.four_eyes_if.test(params, settings)),
                idempotent=step.idempotent,
                high_risk=step.high_risk,
                rollback=fill(step.rollback),
                blast_radius=fill(step.blast_radius),
                target=str(values[step.target]) if step.target else None,
                read_only=step.read_only,
                ungated=step.ungated,
                can_undo=step.undo is not None,
            )
            for step in self.steps
            if step.only_if is None or step.only_if.test(params, settings)
        ]

    def text_values(self, params: BaseModel, settings: Mapping[str, Any]) -> _Gaps:
        """What step texts' {placeholders} read: plain settings, then what `texts` derives
        from them, then the run's parameters (the most specific wins)."""
        values = _Gaps()
        for name, raw in settings.items():
            value = _setting_value(raw)
            if value is not None:
                values[str(name)] = value
        if self.texts is not None:
            values.update(self.texts(settings))
        values.update(params.model_dump(mode="json"))
        return values

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)


@dataclass(frozen=True)
class Choice:
    """A button a waiting step offers on the run card (e.g. Hold, Step back, Continue)."""

    value: str  # what the step gets back in ctx.choice: a short word
    label: str
    style: str | None = None  # "primary" or "danger"


@dataclass(frozen=True)
class Later:
    """What a step returns when it is not finished yet: the engine keeps `ctx.facts`, shows
    `output`, and runs the step again after `after_s` seconds, or as soon as someone presses
    one of `choices` on the run card (their choice is then `ctx.choice`). The wait is a delayed
    job in Redis, not a sleep in a worker, so a worker that dies meanwhile loses nothing.
    With neither `after_s` nor a choice pressed, the step waits for a person. `question`, when
    given, is asked in the card's thread, naming the operator."""

    output: str
    after_s: float | None = None
    choices: tuple[Choice, ...] = ()
    question: str | None = None


# What a step's code may return: a result for the card, None, or "not finished: later".
StepOutcome = str | Later | None
