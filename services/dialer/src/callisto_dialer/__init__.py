"""Callisto dialer: outbound campaigns (preview, progressive, predictive, agentless) within the law."""

__version__ = "0.1.0"
