"""Every card subject and its pure model, plus the card and the timeline entry: no I/O.

One module per subject (alert, sentry, incident, approval, run, prompt, page, heartbeat);
`card` wraps any of them as the one live Slack message Seawall keeps up to date."""
