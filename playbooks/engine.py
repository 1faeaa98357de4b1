"""The playbook engine (being written: durable runs, gates)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

JOBS: dict[str, Callable[..., Awaitable[Any]]] = {}
