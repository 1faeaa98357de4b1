"""Paging: wake the on-call person for what matters, escalate until someone acknowledges.

rota.py and rules.py are pure (who is on call; what pages; the ladder); oncall.py keeps the
rota's overrides and the maintenance pause in Redis; state.py stores pages; flow.py moves
them (timers are jobs); notifier.py reaches phones; acklink.py signs the push's Acknowledge
link; heartbeat.py watches dead-man's switches and pings one outside Seawall."""
