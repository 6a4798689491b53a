"""helpdesk: contacts and caller lookup (tickets, SLA and intake come next)."""

__version__ = "0.1.0"
