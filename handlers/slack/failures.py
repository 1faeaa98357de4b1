"""What a person is told when Seawall itself fails while handling their request."""

from __future__ import annotations

import logging
import secrets

import sentry_sdk

log = logging.getLogger("seawall.failures")


def report_failure(error: BaseException, what: str) -> str:
    """Log and report `error`; return the sentence for the person who asked.

    A tired human needs one sentence and a reference to quote, never a stack trace."""
    error_id = secrets.token_hex(4)
    log.error("%s failed (error id %s)", what, error_id, exc_info=error)
    sentry_sdk.capture_exception(error)
    return (
        "Seawall failed to handle that; nothing was changed. "
        f"Details are in Seawall's logs (error id {error_id})."
    )
