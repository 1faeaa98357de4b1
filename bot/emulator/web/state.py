"""What the browser view keeps beside the emulator's own state: whose modal is whose, what the
app answered to a submission, and the last problem to tell each person about.

Touched only on the server's event loop (routes.py), so it needs no lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WebState:
    # trigger_id -> the person whose click or command it was issued for: Slack shows the
    # modal a views.open opens to that person.
    trigger_users: dict[str, str] = field(default_factory=dict)
    closed_views: set[str] = field(default_factory=set)
    # The app's `response_action: errors` for a view: block_id -> message.
    view_errors: dict[str, dict[str, str]] = field(default_factory=dict)
    # The app's `response_action: update` (or push): the view as it is shown now.
    replaced: dict[str, dict[str, Any]] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)  # user -> the last problem
    version: int = 0  # grows with every change here, so open pages refresh (page.js)

    def changed(self) -> None:
        self.version += 1

    def tell(self, user: str, text: str | None) -> None:
        """Show `text` to `user` above the messages; None clears what they were told."""
        if text is None:
            self.notices.pop(user, None)
        else:
            self.notices[user] = text
        self.changed()

    def open_view(
        self, views: Sequence[dict[str, Any]], view_triggers: Mapping[str, str], user: str
    ) -> dict[str, Any] | None:
        """The modal `user` has open now (the latest one opened for them, not yet closed)."""
        for view in reversed(views):
            view_id = str(view.get("id"))
            if view_id in self.closed_views:
                continue
            if self.trigger_users.get(view_triggers.get(view_id, "")) == user:
                shown: dict[str, Any] = self.replaced.get(view_id, view)
                return shown
        return None

    def close(self, view_id: str) -> None:
        self.closed_views.add(view_id)
        self.view_errors.pop(view_id, None)
        self.changed()
