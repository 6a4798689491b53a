"""snitch: real-time tables and KPIs in Redis, the wallboard, history in PostgreSQL, reports."""

__version__ = "0.1.0"
