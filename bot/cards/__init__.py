"""Cards are pure functions: a TriageCard in, Block Kit out. No I/O, no clock of their own.

`render.render(card, now)` picks the renderer by the card's subject; `common` holds what every
card shares (escaping, Slack's limits, action ids)."""
