"""The question asked before an over-broad silence: valid Block Kit, bound to its matchers."""

from __future__ import annotations

from bot.cards.common import ActionId, CardRef
from bot.cards.silence import confirmation
from bot.emulator.blocks import validate_blocks
from bot.models.alert import SilenceScope

SCOPE = SilenceScope(matchers={"env": "prod", "alertname": "<TargetDown>"}, on_card=2, elsewhere=3)


def test_the_question_names_the_matchers_and_what_they_reach() -> None:
    message = confirmation("am-1", SCOPE)
    blocks = [b.to_dict() for b in message.blocks]
    assert validate_blocks(blocks) == []
    text = blocks[0]["text"]["text"]
    assert '`alertname="&lt;TargetDown&gt;"` `env="prod"`' in text
    assert "*3 firing alerts elsewhere*" in text
    assert "more than the 2 on it" in text


def test_silence_anyway_carries_the_digest_of_exactly_those_matchers() -> None:
    [button] = [b.to_dict() for b in confirmation("am-1", SCOPE).blocks][1]["elements"]
    assert button["action_id"] == ActionId.SILENCE_CONFIRM
    assert CardRef.model_validate_json(button["value"]) == CardRef(c="am-1", d=SCOPE.digest)
