"""Slash-command text -> a playbook's parameter model, with errors a tired human can act on.

`/playbook slot-lag db=main` or `/incident quarantine web-3`: words are split like a shell
(quotes group), `name=value` sets a parameter, bare words fill the playbook's positional
parameters in order. Values are validated by the model's constrained types, so nothing
unvalidated reaches a step (and never a shell).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.cards.common import escape
from bot.core.errors import SeawallError
from playbooks.definition import Playbook, Step

PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ParamError(SeawallError):
    """The command text does not fit the playbook's parameters; `problems` has one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def parse_params(
    playbook: Playbook, text: str, settings: Mapping[str, Any] | None = None
) -> BaseModel:
    """`settings` (the playbook's section of `playbooks:`) reach the model's validators as
    the validation context, so a parameter can be refused unless it names something
    configured (e.g. a pause-workers target)."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ParamError([f"could not read the arguments: {exc}"]) from exc
    fields = playbook.params.model_fields
    values: dict[str, Any] = {}
    positional = list(playbook.positional)
    problems = []
    for word in words:
        key, sep, value = word.removeprefix("--").partition("=")
        if sep:
            name = key.replace("-", "_")
            if name not in fields:
                problems.append(f"`{escape(key)}` is not a parameter of {playbook.name}")
            elif name in values:
                problems.append(f"`{name}` is given twice")
            else:
                values[name] = value
        elif positional:
            values[positional.pop(0)] = word
        else:
            problems.append(f"unexpected word `{escape(word[:60])}`")
    if problems:
        raise ParamError(problems)
    try:
        return playbook.params.model_validate(values, context={"settings": settings or {}})
    except ValidationError as exc:
        raise ParamError([_describe(playbook, e) for e in exc.errors()]) from exc


def _describe(playbook: Playbook, error: Any) -> str:
    name = str(error["loc"][0]) if error["loc"] else "?"
    field = playbook.params.model_fields.get(name)
    hint = f" ({field.description})" if field is not None and field.description else ""
    if error["type"] == "missing":
        return f"`{name}` is required{hint}"
    given = error.get("input")
    shown = f" `{escape(str(given)[:60])}`" if isinstance(given, str | int | float) else ""
    return f"`{name}`{shown}: {error['msg']}{hint}"


def usage(playbook: Playbook) -> str:
    parts = [f"<{p}>" for p in playbook.positional]
    for name, field in playbook.params.model_fields.items():
        if name in playbook.positional:
            continue
        parts.append(f"{name}=…" if field.is_required() else f"[{name}=…]")
    return f"/playbook {playbook.name} " + " ".join(parts)


def help_text(playbook: Playbook) -> str:
    lines = [f"*{playbook.name}* — {escape(playbook.summary)}", f"`{usage(playbook)}`"]
    for name, field in playbook.params.model_fields.items():
        default = "required" if field.is_required() else f"default `{field.default}`"
        lines.append(f"• `{name}` — {escape(field.description or '')} ({default})")
    lines.append("Steps:")
    for i, step in enumerate(playbook.steps, 1):
        described = PLACEHOLDER.sub(r"<\1>", step.description)
        only = f" ({escape(step.only_if.words)})" if step.only_if else ""
        lines.append(f"{i}. {escape(described)}{only} _({gate_words(step)})_")
    return "\n".join(lines)


def gate_words(step: Step) -> str:
    """What stands before a step, as --help shows it: its gates, or why it needs none."""
    if step.read_only:
        return "reads only"
    if step.ungated:
        return f"no gate: {escape(step.ungated)}"
    gates = [
        g
        for g, on in (
            ("step-back prompt", step.destructive),
            ("four-eyes", step.four_eyes),
            (
                f"four-eyes {step.four_eyes_if.words}" if step.four_eyes_if else "",
                step.four_eyes_if is not None and not step.four_eyes,
            ),
            ("type the target to confirm", step.high_risk),
        )
        if on
    ]
    undo = "; can be rolled back" if step.undo is not None else ""
    return ", ".join(gates) + undo
