"""Built-in roles and the permissions they grant (dotted, ``<service>.<resource>...``; see
callisto_runtime.permissions for ``*``, ``#`` and ``{agent_id}``)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"
    QUALITY_MANAGER = "quality-manager"
    INTEGRATOR = "integrator"
    SERVICE = "service"


PERMISSIONS: dict[Role, tuple[str, ...]] = {
    # least privilege: each role holds what its work needs (auth's README has the whole table)
    Role.OPERATOR: (
        "qm.agents.{agent_id}.#",  # the operator's own agent: state, skills read, help requests
        "qm.queues.read",
        "qm.callbacks.create",  # a callback promised in wrap-up
        "snitch.agents.{agent_id}.read",  # their own figures today
        "helpdesk.contacts.read",  # the screen pop
        "helpdesk.tickets.create",
        "helpdesk.agents.{agent_id}.tickets.#",  # tickets and cards of their own calls and callers
        "cm.calls.{agent_id}.#",  # their own phone and the calls their agent is on
        "recording.agents.{agent_id}.#",  # the recordings of their own agent's calls
        "core-bus.agents.read",
        "core-bus.calls.read",
        "dialer.agents.{agent_id}.#",  # their own agent's previews and what came of its campaign calls
    ),
    Role.SUPERVISOR: ("qm.#", "cm.#", "helpdesk.tickets.#", "helpdesk.contacts.#", "snitch.#",
                      "core-bus.services.read", "core-bus.health.read", "core-bus.agents.read",
                      "core-bus.calls.read", "recording.read", "recording.listen", "dialer.#"),
    Role.ADMINISTRATOR: ("#",),
    Role.QUALITY_MANAGER: ("recording.#", "snitch.reports.#", "helpdesk.tickets.read", "qm.queues.read"),
    Role.INTEGRATOR: ("core-bus.services.read", "core-bus.health.read", "helpdesk.contacts.read",
                      "helpdesk.contacts.update", "helpdesk.tickets.read", "helpdesk.tickets.create",
                      "helpdesk.tickets.update", "helpdesk.intake.alerts", "snitch.kpis.read",
                      "cm.calls.originate", "qm.callbacks.create", "dialer.campaigns.read", "dialer.lists.#"),
    Role.SERVICE: (),  # a service account's permissions are its own (SERVICE_PERMISSIONS by default)
}  # fmt: skip

# What each Callisto service's account may do by default (an administrator may change it).
SERVICE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "core-bus": ("core-bus.#", "*.instance.drain"),
    "auth": ("auth.#",),
    "call-manager": ("auth.sip-credentials.read", "qm.#", "helpdesk.contacts.read", "recording.#",
                     "core-bus.agents.read", "core-bus.calls.read"),
    "queue-manager": ("cm.#", "helpdesk.contacts.read", "core-bus.agents.read", "core-bus.calls.read"),
    "dialer": ("cm.calls.originate", "cm.calls.read", "cm.calls.control", "qm.#", "helpdesk.contacts.read",
               "core-bus.agents.read"),
    "recording": ("cm.calls.#",),
    "snitch": ("qm.queues.read", "qm.agents.read", "core-bus.#"),
    # helpdesk's click-to-call and transfer carry the person's own token: no call control of its own
    "helpdesk": ("cm.calls.read", "qm.agents.read", "recording.read"),
}  # fmt: skip

# roles a person may hold (service accounts are not people)
PERSON_ROLES = tuple(role for role in Role if role is not Role.SERVICE)


def permissions_of(roles: list[str]) -> list[str]:
    """The permissions of a person holding ``roles`` (each once, in role order)."""
    granted: list[str] = []
    for name in roles:
        for permission in PERMISSIONS.get(Role(name), ()):
            if permission not in granted:
                granted.append(permission)
    return granted
