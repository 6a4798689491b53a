"""Who may see and work which tickets and call cards.

``helpdesk.tickets.read`` / ``.update`` grant every ticket (supervisors, quality, integrators,
administrators). An operator holds them for their own agent only
(``helpdesk.agents.<agent>.tickets.read`` / ``.update``): the tickets assigned to that agent or
opened by the person, and those about a call the agent took or about a contact the agent talked to,
which is what the screen pop and the call's wrap-up need. Call cards follow: the cards of the
agent's own calls, and a contact's history only for contacts the agent talked to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from callisto_runtime.tokens import Claims, PermissionDenied

Need = Literal["read", "update"]
# a ticket an agent may see (parameters: $agent, $subject; the ticket is ``t``)
TICKET_OF_AGENT = """(
  t.assignee = {agent} OR t.created_by = {subject}
  OR EXISTS (SELECT 1 FROM call_cards c WHERE c.agent_id = {agent}
             AND (c.call_id = t.call_id OR (t.contact_id IS NOT NULL AND c.contact_id = t.contact_id)))
  OR EXISTS (SELECT 1 FROM ticket_calls l JOIN call_cards c ON c.call_id = l.call_id
             WHERE l.ticket_id = t.id AND c.agent_id = {agent})
)"""

# a call card an agent may see: their own calls, and the calls of people they talked to (the card is ``c``)
CARD_OF_AGENT = """(
  c.agent_id = {agent}
  OR EXISTS (SELECT 1 FROM call_cards x WHERE x.agent_id = {agent}
             AND ((c.contact_id IS NOT NULL AND x.contact_id = c.contact_id)
                  OR (c.number_e164 IS NOT NULL AND x.number_e164 = c.number_e164)))
)"""


@dataclass(frozen=True)
class Scope:
    """Every ticket (``agent`` None), or those of one agent and person."""

    agent: str | None = None
    subject: str = ""

    @property
    def everything(self) -> bool:
        return self.agent is None

    @classmethod
    def of(cls, claims: Claims, need: Need) -> Scope:
        if claims.can(f"helpdesk.tickets.{need}"):
            return cls()
        if claims.agent_id is not None and claims.can(f"helpdesk.agents.{claims.agent_id}.tickets.{need}"):
            return cls(claims.agent_id, claims.subject)
        raise PermissionDenied(
            f"permission helpdesk.tickets.{need} is required", {"permission": f"helpdesk.tickets.{need}"}
        )

    def where(self, first: int) -> tuple[str, list[str]]:
        """SQL true for a ticket ``t`` in scope, and its arguments (numbered from ``$first``)."""
        if self.agent is None:
            return "TRUE", []
        return TICKET_OF_AGENT.format(agent=f"${first}", subject=f"${first + 1}"), [self.agent, self.subject]

    def where_card(self, first: int) -> tuple[str, list[str]]:
        """SQL true for a call card ``c`` in scope, and its argument (``$first``)."""
        if self.agent is None:
            return "TRUE", []
        return CARD_OF_AGENT.format(agent=f"${first}"), [self.agent]


EVERYTHING = Scope()
