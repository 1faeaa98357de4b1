"""`/oncall` from Slack, the access rules around it, and the on-call person in incidents."""

from __future__ import annotations

import pytest

from bot.models.run import PlaybookRun
from playbooks.engine import _still_allowed  # the worker's own check
from tests.integration.paging.conftest import ALICE, BOB, CAROL, World, WorldFactory

pytestmark = pytest.mark.integration

ACCESS = {
    "roles": {"responders": {"users": [CAROL]}, "admins": {"users": [CAROL]}},
    "allow": {
        "oncall.take": ["responders"],
        "oncall.handover": ["responders"],
        "oncall.pause": ["admins"],
        "incident.declare": ["everyone"],
    },
}


def test_now_says_who_until_when_and_who_is_next(world: World) -> None:
    text = world.command("now")
    assert f"*primary* (weekly, hands over mon 09:00 Europe/Paris): <@{ALICE}> until" in text
    # Monday 9 March 09:00 in Paris is 08:00 UTC.
    assert "<!date^1773043200^" in text
    assert f"next: <@{BOB}>" in text
    assert "No page is waiting" in text


def test_take_makes_new_pages_go_to_the_taker_until_the_time_given(world: World) -> None:
    reply = world.command("take 2h", user=BOB)
    assert reply.startswith(f"📟 <@{BOB}> took the pager (primary) until")
    assert f"<@{BOB}> until" in world.command("now")
    world.fire("DiskFull")
    world.wait_dms(BOB, 1)
    assert world.dm_count(ALICE) == 0
    world.driver.advance(3 * 3600)
    assert f"<@{ALICE}> until" in world.command("now")  # the override ended


def test_handover_gives_the_pager_until_the_next_handoff(world: World) -> None:
    reply = world.command(f"handover <@{BOB}|bob>", user=ALICE)
    assert reply.startswith(f"📟 <@{ALICE}> handed the pager to <@{BOB}> (primary) until")
    assert "<!date^1773043200^" in reply  # the end of alice's shift
    world.fire("DiskFull")
    world.wait_dms(BOB, 1)


def test_handover_without_a_mention_changes_nothing(world: World) -> None:
    assert "Say who takes the pager" in world.command("handover bob")
    assert f"<@{ALICE}> until" in world.command("now")


def test_the_on_call_person_counts_as_a_responder(make_world: WorldFactory) -> None:
    world = make_world(access=ACCESS)
    assert world.command("take 1h", user=ALICE).startswith("📟")  # on call: a responder
    refused = world.command("take 1h", user=BOB)  # neither on call (now) nor a responder
    assert refused.startswith("You need the role *responders*")
    assert world.command("pause 1h", user=ALICE).startswith("You need the role *admins*")


def test_the_on_call_person_is_invited_into_a_new_incident_channel(world: World) -> None:
    response = world.stack.sender.slash_command("/incident", "declare DB down", user_id=BOB)
    assert response.status_code == 200, response.text
    channel = world.stack.emulator.channel_id("inc-20260303-db-down")
    assert channel is not None
    assert {ALICE, BOB} <= world.stack.emulator.members(channel)


def test_help_lists_every_oncall_command(world: World) -> None:
    text = world.command("help")
    for word in ("now", "take", "handover", "pause", "resume", "ack"):
        assert f"`/oncall {word}" in text


def test_the_worker_s_re_check_counts_the_on_call_person_as_a_responder_too(
    make_world: WorldFactory,
) -> None:
    # The web process and the worker must agree: were the on-call person a responder only at
    # the door, their quarantine would be aborted by the worker's own check (issue 12).
    world = make_world(access={**ACCESS, "allow": {"playbook.quarantine": ["responders"]}})
    deps = world.stack.deps
    run = PlaybookRun(
        run_id="r1",
        playbook="quarantine",
        requested_by=ALICE,  # on call, in no role
        channel="C0X",
        created_at=world.clock.now(),
    )
    assert world.stack.server.run_coroutine(_still_allowed(deps, run))
    assert world.stack.server.run_coroutine(deps.extra_roles(BOB, "playbook.quarantine")) == set()
    assert world.stack.server.run_coroutine(deps.extra_roles(ALICE, "playbook.quarantine")) == {
        "responders"
    }
