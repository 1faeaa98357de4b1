"""Storms: when a channel's outbox holds more new alert cards than Slack can post in a few
seconds, one storm card shows them all at once and is kept current; the groups' own cards
follow worst first (issue 17).

rules.py is pure (when a storm starts and ends, what the card lists, the posting order);
state.py keeps a storm's Redis state; flow.py is the poster's pass planner that does it;
actions.py is what the storm card's buttons do (Acknowledge all, Silence storm)."""
