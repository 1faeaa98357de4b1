"""The push's Acknowledge link is hostile until verified: signed, single use, expiring."""

from __future__ import annotations

import pytest

from bot.paging import acklink
from tests.integration.paging.conftest import ACK_SECRET, ALICE, PUBLIC_URL, World

pytestmark = pytest.mark.integration


def _link(world: World) -> tuple[str, str]:
    """(the ntfy push's Acknowledge URL, the id of the card it pages for)."""
    card_id = world.fire("DiskFull")
    world.driver.advance(60)
    [push] = world.pushes("alice")
    [url] = push.action_urls()
    assert url.startswith(f"{PUBLIC_URL}/pages/ack/v1.")
    return url, card_id


def test_the_ntfy_push_carries_an_http_action_that_acknowledges(world: World) -> None:
    url, _card_id = _link(world)
    [push] = world.pushes("alice")
    assert push.headers["x-actions"] == f"http, Acknowledge, {url}, method=POST, clear=true"
    response = world.press(url)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


def test_a_replayed_link_is_refused(world: World) -> None:
    url, _card_id = _link(world)
    assert world.press(url).status_code == 200
    replay = world.press(url)
    assert replay.status_code == 410
    assert "already used" in replay.text


def test_an_expired_link_is_refused_and_acknowledges_nothing(world: World) -> None:
    url, card_id = _link(world)
    world.clock.advance(2 * 3600 + 1)
    response = world.press(url)
    assert response.status_code == 410
    assert "expired" in response.text
    page = world.page_of(card_id)
    assert page is not None
    assert page.acked_by is None


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "v1.e30.AAAA",
        "v2.e30.AAAA",
        "a" * 5000,
        "v1.eyJwIjoieCJ9.",
    ],
)
def test_a_forged_or_malformed_token_is_refused_before_redis_is_asked(
    world: World, token: str
) -> None:
    response = world.http.post(f"{world.stack.url}/pages/ack/{token}")
    assert response.status_code in (404, 414)


def test_a_token_signed_with_another_secret_is_refused(world: World) -> None:
    url, card_id = _link(world)
    page = world.page_of(card_id)
    assert page is not None
    forged, _ = acklink.make_token("x" * 40, page.page_id, ALICE, world.clock.now())
    response = world.http.post(f"{world.stack.url}/pages/ack/{forged}")
    assert response.status_code == 404
    assert ACK_SECRET not in response.text
    assert page == world.page_of(card_id)  # unchanged
    del url


def test_opening_the_link_shows_a_confirm_page_and_acknowledges_nothing(world: World) -> None:
    url, _card_id = _link(world)
    path = url.removeprefix(PUBLIC_URL)
    page = world.http.get(f"{world.stack.url}{path}")
    assert page.status_code == 200
    assert '<form method="post"' in page.text
    assert "DiskFull (critical)" in page.text
    assert world.press(url).status_code == 200  # the link was not used up by the GET
