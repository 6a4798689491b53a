"""core-bus: the registry of running instances, the control API, suite health and list broadcasts."""

__version__ = "0.1.0"
