"""The dial plan (YAML): trunks, dialled numbers and the IVR flows they lead to, and prompt texts.

    trunks:
      - name: city-gateway
        sources: [192.0.2.10]                  # INVITEs from these addresses come from this trunk
        outbound: {host: 192.0.2.10, port: 5060, transport: UDP}
    numbers: {"311": water, "*": water}        # dialled number (or "*") -> flow
    prompts: {welcome: "Welcome to the water utility."}
    flows:
      water:
        start: welcome
        steps:
          welcome: {play: welcome, next: menu}
          menu: {menu: choose, options: {"1": leaks, "2": billing}, retries: 2, otherwise: leaks}
          leaks: {queue: emergencies, priority: 50, announce: true}
          billing: {queue: billing}

Step kinds (exactly one of the keys ``play``, ``menu``, ``collect``, ``queue``, ``transfer``,
``hangup``) are documented in the service README.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callisto_call_manager.errors import ConfigError
from callisto_call_manager.prompts import BUILT_IN
from callisto_call_manager.recording_policy import RecordingPolicy

StepName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
DIGITS = "0123456789*#"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Outbound(_Strict):
    host: str
    port: int = Field(default=5060, ge=1, le=65535)
    transport: Literal["UDP", "TCP"] = "UDP"


class Trunk(_Strict):
    name: StepName
    sources: list[str] = Field(default=[], description="source addresses (fnmatch patterns)")
    outbound: Outbound | None = None

    def accepts(self, host: str) -> bool:
        return any(fnmatch.fnmatch(host, pattern) for pattern in self.sources)


class Play(_Strict):
    play: str
    next: StepName | None = None


class Menu(_Strict):
    menu: str = Field(description="the prompt that lists the choices")
    options: dict[str, StepName]
    timeout_s: float = Field(default=5, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=10)
    otherwise: StepName | None = Field(default=None, description="after the retries; None hangs up")

    @model_validator(mode="after")
    def _keys(self) -> Menu:
        for key in self.options:
            if len(key) != 1 or key not in DIGITS:
                raise ValueError(f"menu option {key!r} is not one key of {DIGITS}")
        return self


class Collect(_Strict):
    collect: str = Field(description="the prompt asking for the digits")
    into: StepName = Field(description="the call variable the digits go to")
    max_digits: int = Field(default=10, ge=1, le=32)
    terminator: str = Field(default="#", pattern=r"^[*#]?$")
    timeout_s: float = Field(default=8, gt=0, le=60)
    next: StepName | None = None


class CallbackOffer(_Strict):
    """Offer a waiting caller to be called back (keeping their place) when the expected wait is at
    least ``after_s`` (0: always); the caller presses ``key``."""

    after_s: float = Field(default=120, ge=0, le=86400)
    key: str = Field(default="1", pattern=r"^[0-9]$")


class Queue(_Strict):
    queue: StepName
    priority: int = Field(default=0, ge=0, le=100)
    skills: dict[StepName, int] = {}
    announce: bool = Field(default=True, description="say the position and expected wait")
    hold_music: str | None = Field(default="hold", description="a prompt repeated while waiting")
    callback: CallbackOffer | None = None


class Lookup(_Strict):
    """Ask helpdesk who the caller is (by caller id): the call's variables get ``contact_id``,
    ``contact_name``, ``vip`` and ``personal_agent_id`` (a later queue step offers the call to that
    agent first); VIP callers go on to ``vip`` when given. No answer within ``timeout_s``, or nobody
    known: on to ``next``."""

    lookup: Literal["caller"]
    next: StepName | None = None
    vip: StepName | None = None
    timeout_s: float = Field(default=1.0, gt=0, le=10)


class Transfer(_Strict):
    transfer: Annotated[str, Field(pattern=r"^\+?[0-9*#]{1,32}$")]


class Hangup(_Strict):
    hangup: str | None = Field(default=None, description="a prompt played before hanging up")


Step = Play | Menu | Collect | Lookup | Queue | Transfer | Hangup


class Flow(_Strict):
    start: StepName
    steps: dict[StepName, Step]

    @model_validator(mode="after")
    def _links(self) -> Flow:
        names = set(self.steps)
        links = [self.start]
        for step in self.steps.values():
            if isinstance(step, Play | Collect | Lookup) and step.next:
                links.append(step.next)
            if isinstance(step, Lookup) and step.vip:
                links.append(step.vip)
            if isinstance(step, Menu):
                links.extend(step.options.values())
                links.extend([step.otherwise] if step.otherwise else [])
        missing = sorted(set(links) - names)
        if missing:
            raise ValueError(f"steps {missing} are named but not defined")
        return self

    def default_queue(self) -> Queue | None:
        """The queue step a caller who presses nothing reaches (menus by ``otherwise``, lookups by
        ``next``); None when that path ends elsewhere (a hang-up, a transfer, nowhere)."""
        name: str | None = self.start
        seen: set[str] = set()
        while name is not None and name not in seen:
            seen.add(name)
            step = self.steps[name]
            if isinstance(step, Queue):
                return step
            if isinstance(step, Play | Collect | Lookup):
                name = step.next
            elif isinstance(step, Menu):
                name = step.otherwise
            else:
                return None
        return None


class DialPlan(_Strict):
    trunks: list[Trunk] = []
    numbers: dict[str, StepName] = {}
    prompts: dict[StepName, str] = {}
    flows: dict[StepName, Flow] = {}
    recording: RecordingPolicy | None = None  # None: the record_answered setting decides

    @model_validator(mode="after")
    def _references(self) -> DialPlan:
        for number, flow in self.numbers.items():
            if flow not in self.flows:
                raise ValueError(f"number {number!r} leads to the unknown flow {flow!r}")
        used: set[str] = set()
        for each in self.flows.values():
            for step in each.steps.values():
                for field in ("play", "menu", "collect", "hangup", "hold_music"):
                    value = getattr(step, field, None)
                    if value:
                        used.add(value)
        unknown = sorted(used - set(self.prompts) - set(BUILT_IN))
        if unknown:
            raise ValueError(f"prompts {unknown} are used but have no text")
        return self

    def trunk_for(self, host: str) -> Trunk | None:
        return next((trunk for trunk in self.trunks if trunk.accepts(host)), None)

    def flow_for(self, dialled: str) -> Flow | None:
        name = self.numbers.get(dialled) or self.numbers.get("*")
        return self.flows.get(name) if name else None

    def outbound(self) -> Trunk | None:
        return next((trunk for trunk in self.trunks if trunk.outbound is not None), None)


def body_of(path: Path | None) -> dict[str, Any]:
    """The dial plan file's data (the configuration store's first version of ``call-manager.dial-plan``)."""
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"dial plan {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"dial plan {path}: not a mapping of trunks, numbers, prompts and flows")
    return data


def load(path: Path | None) -> DialPlan:
    try:
        return DialPlan.model_validate(body_of(path))
    except ValidationError as exc:
        raise ConfigError(f"dial plan {path}: {exc}") from exc


def summary(plan: DialPlan) -> str:
    return f"{len(plan.trunks)} trunks, {len(plan.numbers)} numbers, {len(plan.flows)} flows"
