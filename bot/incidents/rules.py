"""How incidents and their channels are named: pure rules (Slack's channel-name limits)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

# Slack: channel names are lowercase letters, digits, hyphens and underscores, <= 80 chars.
CHANNEL_NAME_MAX = 80
CHANNEL_PREFIX = "inc-"
# "inc-" + "YYYYMMDD-" + slug + "-NN": the slug leaves room for a suffix on name_taken.
SLUG_MAX = CHANNEL_NAME_MAX - len(CHANNEL_PREFIX) - len("YYYYMMDD-") - len("-999")
VALID_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")


def slugify(title: str) -> str:
    """A channel-name-safe slug of `title`: ascii lowercase words joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-")
    return slug or "incident"


def incident_id_for(title: str, declared_at: datetime, attempt: int = 1) -> str:
    """`YYYYMMDD-slug`, then `-2`, `-3`… for later attempts (the name was taken)."""
    base = f"{declared_at:%Y%m%d}-{slugify(title)}"
    return base if attempt <= 1 else f"{base}-{attempt}"


def channel_name_for(incident_id: str) -> str:
    return f"{CHANNEL_PREFIX}{incident_id}"
