"""Replication slot watch: pure rules (rates, time until the cap, levels, diagnosis) and the
cards they raise; the Postgres side is playbooks/providers/postgres.py."""
