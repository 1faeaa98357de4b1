"""What the Silence button tells the clicker: the exact matchers and how far they reach, and
the question asked before a silence that would cover more of other cards' alerts than of
this one's."""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, MarkdownTextObject, SectionBlock

from bot.cards.common import SECTION_TEXT_MAX, ActionId, CardMessage, action_button, code, truncate
from bot.models.alert import SilenceScope


def matchers_text(matchers: dict[str, str]) -> str:
    """`name="value"` code spans, in name order (labels are untrusted text)."""
    return " ".join(code(f'{name}="{value}"', 300) for name, value in sorted(matchers.items()))


def alerts(n: int) -> str:
    return f"{n} firing alert{'s' if n != 1 else ''}"


def reach_text(scope: SilenceScope) -> str:
    return f"{alerts(scope.on_card)} on this card and {scope.elsewhere} elsewhere"


def confirmation(card_id: str, scope: SilenceScope) -> CardMessage:
    """The ephemeral question, with a "Silence anyway" bound to exactly these matchers."""
    text = (
        f"⚠️ Nothing was silenced yet: these matchers would also silence "
        f"*{alerts(scope.elsewhere)} elsewhere* (not on this card), more than the "
        f"{scope.on_card} on it."
    )
    body = (
        f"{text}\n{matchers_text(scope.matchers)}\n"
        "Press *Silence anyway* to silence all of them for 1 hour, or silence this card's "
        "alerts in Alertmanager with narrower matchers."
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(body, SECTION_TEXT_MAX))),
        ActionsBlock(
            elements=[
                action_button(
                    ActionId.SILENCE_CONFIRM,
                    "Silence anyway",
                    card_id,
                    "danger",
                    confirms=scope.digest,
                )
            ]
        ),
    ]
    return CardMessage(text=text, blocks=blocks)


def storm_question(
    card_id: str, matchers: dict[str, str], on_storm: int, elsewhere: int, digest: str
) -> CardMessage:
    """Silence storm always asks first: the exact matchers and how many firing alerts they
    select, this storm's and others'; "Silence storm 1h" is bound to exactly these matchers."""
    reach = f"*{alerts(on_storm)}* of this storm" + (
        f" and *{alerts(elsewhere)} elsewhere* (not in this storm)" if elsewhere else ""
    )
    text = f"⚠️ Nothing was silenced yet. These matchers select {reach}, as Alertmanager says now:"
    body = (
        f"{text}\n{matchers_text(matchers)}\n"
        "Press *Silence storm 1h* to silence all of them for 1 hour."
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(body, SECTION_TEXT_MAX))),
        ActionsBlock(
            elements=[
                action_button(
                    ActionId.STORM_SILENCE_CONFIRM,
                    "Silence storm 1h",
                    card_id,
                    "danger",
                    confirms=digest,
                )
            ]
        ),
    ]
    return CardMessage(text=text, blocks=blocks)
