"""queue-manager: the ACD — agents and their states, skills, queues, routing, expected wait."""

__version__ = "0.1.0"
