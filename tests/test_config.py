"""Typed config: overrides, unknown keys, types."""

from dataclasses import dataclass, field

import pytest

from vbot_agent.config import apply_overrides, from_mapping, parse_override, to_dict
from vbot_agent.errors import UsageError
from vbot_agent.sim.navigation import NavConfig
from vbot_agent.sim.rewards import DEFAULT_SCALES, RewardConfig


@dataclass(frozen=True)
class Inner:
    rate: float = 1.0
    sizes: tuple[int, ...] = (64, 32)


@dataclass(frozen=True)
class Outer:
    name: str = "a"
    inner: Inner = field(default_factory=Inner)
    scales: dict[str, float] = field(default_factory=dict)


def test_overrides_are_typed_and_dotted():
    cfg = apply_overrides(Outer, Outer(), ["inner.rate=3e-4", "inner.sizes=[8, 8]", "scales.x=2", "name=b"])
    assert cfg.inner.rate == pytest.approx(3e-4) and cfg.inner.sizes == (8, 8)
    assert cfg.scales == {"x": 2.0} and cfg.name == "b"
    assert Outer().inner.rate == 1.0  # the base is never mutated


def test_unknown_override_key_names_valid_keys():
    with pytest.raises(UsageError, match=r"unknown key 'rat' \(did you mean rate\?\); valid keys under inner: rate, sizes"):
        apply_overrides(Outer, Outer(), ["inner.rat=1"])
    with pytest.raises(UsageError, match="expected key=value"):
        parse_override("inner.rate")


def test_wrong_types_are_refused():
    with pytest.raises(UsageError, match="inner.rate: expected a number"):
        from_mapping(Outer, {"inner": {"rate": "fast"}})
    with pytest.raises(UsageError, match="expected an integer"):
        from_mapping(Outer, {"inner": {"sizes": [1.5]}})


def test_round_trip_through_plain_types():
    cfg = from_mapping(NavConfig, {"spawn": {"layout": "competition"}, "noise": {"enabled": True}})
    assert from_mapping(NavConfig, to_dict(cfg)) == cfg


def test_reward_scales_merge_with_defaults():
    cfg = RewardConfig(scales={"hold": 5.0})
    assert cfg.scales["hold"] == 5.0
    assert {k: v for k, v in cfg.scales.items() if k != "hold"} == {k: v for k, v in DEFAULT_SCALES.items() if k != "hold"}
