"""Slack's ways in: the Bolt app and its routers (commands, buttons), plus one module per
feature giving that feature's subcommands, buttons, listeners and jobs (handlers/features.py
lists them)."""
