"""A post whose answer was never recorded (a timeout, a primary that died before its replica
had the ts) is found in Slack and adopted, not posted a second time (bot/post_intents.py).

Each test builds the state such a post leaves, the way it is left: the card in the outbox
with no Slack message recorded, an intent older than the post deadline, and (or not) the
message in Slack with the card's metadata, posted through the emulator's Web API.
"""

from __future__ import annotations

import time

import pytest
import redis
from slack_sdk import WebClient

from bot import post_intents
from bot.alerts.rules import card_id_for_group
from bot.core import keys
from tests.conftest import StackFactory, emulator_config
from tests.fixtures.alertmanager_payloads import group_payload
from tests.support.stack import BOT_TOKEN, CHANNEL, SeawallStack
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

GROUP = "LostAnswer"


def stored_card(stack: SeawallStack) -> str:
    payload = group_payload(GROUP, alerts=2)
    assert stack.post_alertmanager(payload).status_code == 200
    return card_id_for_group(str(payload["groupKey"]))


def leave_intent(stack: SeawallStack, card_id: str, kind: str = post_intents.CARD) -> None:
    """The intent a poster wrote before a post whose outcome it never learnt, old enough that
    no post of it can still be in flight."""
    settled_s = post_intents.POST_DEADLINE_S + post_intents.SETTLE_S + 1
    at_ms = int((time.time() - settled_s) * 1000)
    with redis.Redis.from_url(stack.deps.settings.redis_url) as client:
        client.set(keys.card_posting(card_id), f"{kind} {at_ms}", ex=keys.POSTING_TTL_S)


def slack(stack: SeawallStack) -> WebClient:
    return WebClient(token=BOT_TOKEN, base_url=f"{stack.emulator_server.url}/api/")


def cards_shown(stack: SeawallStack) -> list[str]:
    return [m.ts for m in stack.messages(CHANNEL) if GROUP in m.text]


def test_a_card_posted_before_its_answer_was_lost_is_adopted_and_updated(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(poster=False, worker=False)
    card_id = stored_card(stack)
    leave_intent(stack, card_id)
    earlier = slack(stack).chat_postMessage(
        channel=CHANNEL, text="(the earlier post)", metadata=post_intents.metadata(card_id)
    )["ts"]
    stack.start_poster()
    wait_until(lambda: GROUP in stack.emulator.message(CHANNEL, earlier).text, what="an update")
    assert [m.ts for m in stack.messages(CHANNEL)] == [earlier]
    assert stack.server.run_coroutine(stack.deps.store.card_message(card_id)) == (CHANNEL, earlier)


def test_a_card_whose_earlier_post_never_reached_slack_is_posted_once(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(poster=False, worker=False)
    card_id = stored_card(stack)
    leave_intent(stack, card_id)
    stack.start_poster()
    wait_until(lambda: cards_shown(stack), what="the card in Slack")
    wait_until(
        lambda: stack.server.run_coroutine(stack.deps.store.outbox_size(CHANNEL)) == 0,
        what="the outbox to empty",
    )
    assert len(cards_shown(stack)) == 1


def test_a_thread_reply_posted_before_its_answer_was_lost_is_not_posted_again(
    make_stack: StackFactory,
) -> None:
    # This test posts beside Seawall: room for both in the channel's posting rate.
    stack = make_stack(emulator=emulator_config(post_message_rate_per_channel=20.0))
    payload = group_payload(GROUP, alerts=1)
    card_id = card_id_for_group(str(payload["groupKey"]))
    stack.post_alertmanager(payload)
    [card] = wait_until(lambda: cards_shown(stack), what="the card in Slack")
    wait_until(
        lambda: stack.server.run_coroutine(stack.deps.store.outbox_size(CHANNEL)) == 0,
        what="the outbox to empty",
    )
    stack.close_poster()
    stack.post_alertmanager(group_payload(GROUP, alerts=0, resolved=1, status="resolved"))
    reply = stack.server.run_coroutine(stack.deps.store.next_reply(card_id))
    assert reply is not None
    kind = post_intents.reply_kind(reply.reply_id)
    leave_intent(stack, card_id, kind)
    slack(stack).chat_postMessage(
        channel=CHANNEL,
        thread_ts=card,
        text=reply.text,
        metadata=post_intents.metadata(card_id, kind),
    )
    stack.start_poster()
    wait_until(
        lambda: stack.server.run_coroutine(stack.deps.store.outbox_size(CHANNEL)) == 0,
        what="the outbox to empty",
    )
    thread = stack.emulator.message(CHANNEL, card).replies
    assert [m.text for m in thread] == [reply.text]
