"""Observability: Prometheus metrics (metrics, db_gauges, scheduler_lag), readiness (health) and
structured logs (bot/logs.py). See the README's "Observability" section for the names."""
