"""The webhook routes: one module per sender (Alertmanager, Sentry), each verifying and parsing
at the edge (handlers/http_edge.py) before it hands a model to its feature's intake."""
