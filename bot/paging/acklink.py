"""The Acknowledge link of a push: signed, single-use, expiring.

A push service (ntfy's `http` action, a link in a Pushover or Telegram message) makes the
phone request `POST {SEAWALL_PUBLIC_URL}/pages/ack/<token>`. Anyone who sees the URL could
replay it, and the request comes from the internet, so the token is:

- `v1.<payload>.<signature>`: payload = base64url JSON {p: page, u: user, n: nonce, e: expiry
  epoch}; signature = base64url HMAC-SHA256 of "v1.<payload>" with SEAWALL_ACK_SECRET,
  compared in constant time before anything else is read;
- single-use: its nonce is stored in Redis when the push is sent and deleted by the first
  use, so a replay finds nothing;
- expiring after ACK_LINK_TTL_S (the nonce's TTL, and `e` inside the signed payload).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis.asyncio as aioredis

from bot.core import keys

VERSION = "v1"
TOKEN_MAX = 600
_PAGE_ID = re.compile(r"^[a-z0-9-]{1,64}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class LinkRefused(Exception):
    """Why a link cannot acknowledge anything; the message is safe to show the presser."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class AckLink:
    page_id: str
    user_id: str
    nonce: str
    expires: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, signed: str) -> str:
    return _b64(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())


def make_token(secret: str, page_id: str, user_id: str, now: datetime) -> tuple[str, AckLink]:
    """A new token for `user_id` to acknowledge `page_id` (store its nonce with `remember`)."""
    link = AckLink(
        page_id=page_id,
        user_id=user_id,
        nonce=secrets.token_urlsafe(16),
        expires=now + timedelta(seconds=keys.ACK_LINK_TTL_S),
    )
    body = {"p": page_id, "u": user_id, "n": link.nonce, "e": int(link.expires.timestamp())}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    signed = f"{VERSION}.{payload}"
    return f"{signed}.{_sign(secret, signed)}", link


def read_token(secret: str, token: str, now: datetime) -> AckLink:
    """The link a token stands for, or LinkRefused. Pure: the nonce is checked by `consume`."""
    if len(token) > TOKEN_MAX or token.count(".") != 2:
        raise LinkRefused("This is not a Seawall acknowledge link.", 404)
    version, payload, signature = token.split(".")
    expected = _sign(secret, f"{version}.{payload}")
    if version != VERSION or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise LinkRefused("This is not a Seawall acknowledge link.", 404)
    try:
        body = json.loads(_unb64(payload))
        link = AckLink(
            page_id=str(body["p"]),
            user_id=str(body["u"]),
            nonce=str(body["n"]),
            expires=datetime.fromtimestamp(int(body["e"]), tz=now.tzinfo),
        )
    except (ValueError, KeyError, TypeError) as exc:  # signed by us, so never; kept as a net
        raise LinkRefused("This acknowledge link is damaged.", 400) from exc
    if not (
        _PAGE_ID.match(link.page_id) and _USER_ID.match(link.user_id) and _NONCE.match(link.nonce)
    ):
        raise LinkRefused("This acknowledge link is damaged.", 400)
    if link.expires <= now:
        raise LinkRefused(
            "This acknowledge link has expired; nothing was acknowledged. Acknowledge from "
            "Slack (the DM or the card) or with /oncall ack.",
            410,
        )
    return link


async def remember(redis: aioredis.Redis, link: AckLink, now: datetime) -> None:
    """Store the nonce so the link works once, until it expires."""
    ttl = max(1, int((link.expires - now).total_seconds()))
    await redis.set(keys.ack_link_nonce(link.nonce), link.page_id, ex=ttl)


async def consume(redis: aioredis.Redis, link: AckLink) -> None:
    """Use the link up; LinkRefused when it was used before (a replay) or has expired."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.get(keys.ack_link_nonce(link.nonce))
        pipe.delete(keys.ack_link_nonce(link.nonce))
        stored, deleted = await pipe.execute()
    if not deleted or stored != link.page_id:
        raise LinkRefused(
            "This acknowledge link was already used (or has expired); nothing more was done. "
            "Each push carries its own link.",
            410,
        )
