"""The kernel: clock, settings, errors, Redis keys, metrics, the job queue, the Slack client and
time helpers. It imports no other Seawall code, so everything may import it."""
