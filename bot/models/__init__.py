"""Every card subject and its pure model, plus the card and the timeline entry: no I/O.

One module per subject (alert, sentry, incident, approval, run, prompt, page, heartbeat,
slots); `card` wraps any of them as the one live Slack message Seawall keeps up to date;
`lifecycle` says when a card's subject is closed, and so how long Redis keeps it."""
