"""KPI definitions per queue (thresholds and targets) and the wallboard's lines: the configuration
document ``snitch.kpi``, seeded from YAML (the definitions file, or the demo's).

A queue takes ``defaults`` changed by its own entry; a queue seen on the bus but not configured takes
the defaults. The colour of a figure is decided here, once, for the wallboard and the API alike."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from callisto_snitch.errors import InvalidDefinitions

DEMO_DEFINITIONS = Path(__file__).with_name("kpi.yaml")
Basis = Literal["answered", "with_abandons"]


class Colour(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class Targets(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service_level: float = Field(default=0.8, ge=0, le=1)
    asa_s: float = Field(default=20, gt=0)
    abandon_rate: float = Field(default=0.05, ge=0, le=1)
    longest_wait_s: float = Field(default=60, gt=0)
    occupancy: float = Field(default=0.85, gt=0, le=1)
    amber: float = Field(default=0.2, gt=0, le=1, description="how far past a target is still amber")

    def higher_better(self, value: float | None, target: float) -> Colour | None:
        if value is None:
            return None
        if value >= target:
            return Colour.GREEN
        return Colour.AMBER if value >= target * (1 - self.amber) else Colour.RED

    def lower_better(self, value: float | None, target: float) -> Colour | None:
        if value is None:
            return None
        if value <= target:
            return Colour.GREEN
        return Colour.AMBER if value <= target * (1 + self.amber) else Colour.RED


class QueueDefinition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""
    service_level_s: float = Field(default=20, gt=0, le=3600)
    short_abandon_s: float = Field(default=5, ge=0, le=600)
    service_level_basis: Basis = "with_abandons"
    targets: Targets = Targets()

    def colours(self, kpis: dict[str, Any]) -> dict[str, Colour | None]:
        t = self.targets
        return {
            "service_level": t.higher_better(kpis["service_level"], t.service_level),
            "asa_s": t.lower_better(kpis["asa_s"], t.asa_s),
            "abandon_rate": t.lower_better(kpis["abandon_rate"], t.abandon_rate),
            "longest_wait_s": t.lower_better(kpis["longest_wait_s"], t.longest_wait_s),
            "occupancy": t.lower_better(kpis["occupancy"], t.occupancy),
        }


class Line(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""
    queues: list[str] = Field(min_length=1)
    definition: dict[str, Any] = Field(default={}, description="thresholds of the line's own figures")


class Definitions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    defaults: QueueDefinition = QueueDefinition()
    queues: dict[str, dict[str, Any]] = {}
    lines: dict[str, Line] = {}
    _merged: dict[tuple[str, str], QueueDefinition] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _each_queue(self) -> Definitions:
        for queue_id, raw in self.queues.items():
            self._merge(raw, f"queue {queue_id!r}")
        for line_id, line in self.lines.items():
            self._merge(line.definition, f"line {line_id!r}")
        return self

    def _merge(self, raw: dict[str, Any], what: str) -> QueueDefinition:
        base = self.defaults.model_dump()
        targets = {**base.pop("targets"), **(raw.get("targets") or {})}
        try:
            return QueueDefinition.model_validate({**base, **raw, "targets": targets})
        except ValidationError as exc:
            raise ValueError(f"{what}: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}") from exc

    def summary(self) -> str:
        return f"{len(self.queues)} queues, {len(self.lines)} lines: " + ", ".join(self.lines)

    def queue(self, queue_id: str) -> QueueDefinition:
        cache = self._merged  # merged once per queue: a version never changes (a new one is a new object)
        found = cache.get(("queue", queue_id))
        if found is None:
            found = cache[("queue", queue_id)] = self._merge(self.queues.get(queue_id, {}), queue_id)
        return found

    def line(self, line_id: str) -> QueueDefinition:
        cache = self._merged
        found = cache.get(("line", line_id))
        if found is None:
            line = self.lines[line_id]
            found = cache[("line", line_id)] = self._merge({"name": line.name, **line.definition}, line_id)
        return found


def read_definitions(path: Path | None) -> Definitions:
    if path is None:
        return Definitions()
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        return Definitions.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError, ValueError) as exc:
        raise InvalidDefinitions(f"KPI definitions {path}: {exc}", {"path": str(path)}) from exc
