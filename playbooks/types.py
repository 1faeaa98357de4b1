"""Constrained parameter types: a target is never a free string that could reach a shell."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

# RFC 1123 host name (lowercase): letters, digits, hyphens, dots. No spaces, no ;|&$`.
Hostname = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=253,
        pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$",
    ),
]

# A name like a replication slot, backend or queue: letters, digits, _ - . only.
Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=63, pattern=r"^[A-Za-z0-9_.-]+$")
]
