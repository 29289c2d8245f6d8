"""The YAML search space: PPO settings and reward weights, as dotted trainer config keys.

File layout (``starter_kit_schedule/templates/search_space.yaml`` documents it)::

    params:
      ppo.learning_rate: {type: float, low: 1.0e-4, high: 1.0e-3, log: true}
      ppo.num_learning_epochs: {type: int, low: 3, high: 8}
      policy.actor_hidden_dims: {type: categorical, choices: [[128, 128, 64], [256, 128, 64]]}
      reward.scales.arrival: {type: float, low: 5.0, high: 20.0}
    known_good:            # enqueued first (optuna ``enqueue_trial``) on a new campaign
      - {ppo.learning_rate: 3.0e-4, reward.scales.arrival: 10.0}

Keys are the trainer's ``--set`` keys; :func:`check_keys` resolves every key through the backend
(the trainer's own config dataclass) so a key the trainer or env does not use is refused before
any training. ``reward.*`` keys are reward weights; every other key is a PPO/policy/env setting.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from vbot_agent.config import from_mapping
from vbot_agent.errors import UsageError, suggest

REWARD_PREFIX = "reward."
MODES = ("hp", "reward", "stage")


@dataclass(frozen=True)
class ParamSpec:
    """One searched key. float/int use low..high (``log`` for log scale, ``step`` for a grid);
    categorical uses ``choices`` (any plain YAML values, lists included)."""

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("categorical needs a non-empty list of choices")
            if self.low is not None or self.high is not None:
                raise ValueError("categorical takes choices, not low/high")
            return
        if self.low is None or self.high is None:
            raise ValueError(f"{self.type} needs low and high")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("log scale needs low > 0")
        if self.choices is not None:
            raise ValueError(f"{self.type} takes low/high, not choices")
        if self.type == "int" and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError("int needs integer low and high")

    def labels(self) -> list[str]:
        """optuna categorical values must be scalars: each choice is named by its JSON text."""
        return [json.dumps(c) for c in self.choices or ()]

    def contains(self, value: Any) -> bool:
        if self.type == "categorical":
            return json.dumps(value) in self.labels()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.type == "int" and not float(value).is_integer():
            return False
        return self.low <= value <= self.high

    def samples(self) -> list[Any]:
        """Values to try against the trainer's config: both bounds, or every choice."""
        if self.type == "categorical":
            return list(self.choices or ())
        if self.type == "int":
            return [int(self.low), int(self.high)]
        return [float(self.low), float(self.high)]


@dataclass(frozen=True)
class SearchSpace:
    params: Mapping[str, ParamSpec]
    known_good: tuple[Mapping[str, Any], ...] = ()

    def keys(self) -> list[str]:
        return list(self.params)

    def for_mode(self, mode: str) -> SearchSpace:
        """The keys a mode searches: ``hp`` non-reward keys, ``reward`` reward keys, ``stage`` all."""
        if mode not in MODES:
            raise UsageError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        keep = [k for k in self.params if mode == "stage" or (k.startswith(REWARD_PREFIX) == (mode == "reward"))]
        if not keep:
            kind = "reward.* weights" if mode == "reward" else "PPO/policy settings (keys outside reward.*)"
            raise UsageError(f"the search space has no {kind}, which mode {mode!r} searches; add some under params:")
        params = {k: self.params[k] for k in keep}
        known = tuple(g for g in ({k: v for k, v in entry.items() if k in params} for entry in self.known_good) if g)
        return SearchSpace(params=params, known_good=known)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, spec in self.params.items():
            item: dict[str, Any] = {"type": spec.type}
            if spec.type == "categorical":
                item["choices"] = list(spec.choices or ())
            else:
                item.update(low=spec.low, high=spec.high)
                if spec.log:
                    item["log"] = True
                if spec.step is not None:
                    item["step"] = spec.step
            out[key] = item
        return {"params": out, "known_good": [dict(g) for g in self.known_good]}


def parse_search_space(data: Mapping[str, Any], *, where: str = "search space") -> SearchSpace:
    """Build a SearchSpace from its YAML mapping; UsageError naming the key on any problem."""
    if not isinstance(data, Mapping):
        raise UsageError(f"{where}: expected a mapping with params: and known_good:")
    unknown = [k for k in data if k not in ("params", "known_good")]
    if unknown:
        raise UsageError(f"{where}: unknown top-level key {unknown[0]!r}; valid: params, known_good")
    raw = data.get("params") or {}
    if not isinstance(raw, Mapping) or not raw:
        raise UsageError(f"{where}: params: must map dotted trainer keys to ranges, e.g. ppo.learning_rate: "
                         "{type: float, low: 1.0e-4, high: 1.0e-3, log: true}")
    params: dict[str, ParamSpec] = {}
    for key, spec in raw.items():
        if not isinstance(key, str) or "." not in key:
            raise UsageError(f"{where}: key {key!r} must be a dotted trainer key such as ppo.learning_rate")
        if isinstance(spec, Mapping) and isinstance(spec.get("choices"), list):
            spec = {**spec, "choices": tuple(spec["choices"])}
        params[key] = from_mapping(ParamSpec, spec, where=f"{where}: {key}")
    known: list[dict[str, Any]] = []
    for i, entry in enumerate(data.get("known_good") or []):
        if not isinstance(entry, Mapping):
            raise UsageError(f"{where}: known_good[{i}] must be a mapping of key: value")
        for key, value in entry.items():
            if key not in params:
                raise UsageError(f"{where}: known_good[{i}] key {key!r} is not in params{suggest(str(key), list(params))}")
            if not params[key].contains(value):
                raise UsageError(f"{where}: known_good[{i}] {key}={value!r} is outside its range {params[key]}")
        known.append(dict(entry))
    return SearchSpace(params=params, known_good=tuple(known))


def check_keys(space: SearchSpace, check: Callable[[Sequence[Mapping[str, Any]]], None]) -> None:
    """Resolve every key (each bound / choice) through ``check`` (the backend's ``check_overrides``).

    ``check`` receives a list of ``{key: value}`` assignments, each a full set of the space's keys,
    and raises UsageError for a key the trainer or env does not use. Bounds are combined so that
    every sample value of every key appears in at least one assignment.
    """
    samples = {k: spec.samples() for k, spec in space.params.items()}
    rounds = max(len(v) for v in samples.values())
    assignments = [{k: v[i % len(v)] for k, v in samples.items()} for i in range(rounds)]
    check(assignments)


def suggest_values(trial: Any, space: SearchSpace) -> dict[str, Any]:
    """Ask optuna ``trial`` for a value of every key; returns ``{key: value}`` (choices decoded)."""
    values: dict[str, Any] = {}
    for key, spec in space.params.items():
        if spec.type == "float":
            values[key] = trial.suggest_float(key, spec.low, spec.high, log=spec.log, step=spec.step)
        elif spec.type == "int":
            values[key] = trial.suggest_int(key, int(spec.low), int(spec.high), log=spec.log,
                                            step=int(spec.step or 1))
        else:
            labels = spec.labels()
            values[key] = spec.choices[labels.index(trial.suggest_categorical(key, labels))]
    return values


def encode_for_optuna(space: SearchSpace, values: Mapping[str, Any]) -> dict[str, Any]:
    """``{key: value}`` in optuna's representation (categorical labels), for ``enqueue_trial``."""
    return {k: (json.dumps(v) if space.params[k].type == "categorical" else v) for k, v in values.items()}


def decode_from_optuna(space: SearchSpace, params: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`encode_for_optuna` for a finished trial's ``params``."""
    out = {}
    for key, value in params.items():
        spec = space.params.get(key)
        out[key] = json.loads(value) if spec is not None and spec.type == "categorical" else value
    return out


def split_values(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(params, reward_scales)``: reward.scales.<term> keys go to reward_scales by term name."""
    params, scales = {}, {}
    for key, value in values.items():
        if key.startswith("reward.scales."):
            scales[key[len("reward.scales."):]] = value
        else:
            params[key] = value
    return params, scales
