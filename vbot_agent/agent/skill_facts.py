"""Numbers the skills quote about shipped plans, presets and defaults, checked against their source.

A skill that says "the last stage is 10-12 m" while the shipped plan says 8-11 m sends an agent the
wrong way with confidence. Each :class:`QuoteRule` finds one *form* of quote in a skill's text and
checks every number it finds against the file or default it can only have come from:

- ```term` NUMBER`` (e.g. "`progress` 2.0"): a reward term's default scale (``RewardConfig``);
- "A-B m" ranges: a target-distance range of a shipped curriculum stage, the default spawn range,
  or the competition ring (``NavConfig``);
- "`PLAN` asks for X, Y and Z": that shipped plan's ``promote.success_rate`` stage by stage; in the
  curriculum skill, any bar "≥ X" and learning-rate multiplier "0.5×" is one a shipped plan uses;
- radii ("within 0.3 m", "0.75 m fence", "capped at 1 m/s") and the lazy-robot arithmetic.

Rules match forms, never positions: rewording a sentence keeps it checked, and a skill that stops
quoting a number simply stops matching. To quote something new about a shipped file, write it in
one of these forms (or add a rule here). Nothing here imports torch; the env defaults import mujoco
when first read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from vbot_agent.agent.skills import Skill, SkillIssue

NUMBER = r"(-?\d+(?:\.\d+)?(?:e-?\d+)?)"


def normalise(text: str) -> str:
    """Typographic minus and dashes as ASCII, so one regex reads both."""
    return text.replace("\u2212", "-").replace("\u2013", "-").replace("\u2014", "-")


# ----------------------------------------------------------------------------------- sources
@cache
def _seed_yaml(relative: str) -> dict[str, Any]:
    from vbot_agent.config import load_yaml
    from vbot_agent.workspace.init import SEED_DIR

    return load_yaml(SEED_DIR / relative)


def _plans() -> dict[str, dict[str, Any]]:
    from vbot_agent.workspace.init import SEED_DIR

    return {p.stem: _seed_yaml(f"curricula/{p.name}") for p in sorted((SEED_DIR / "curricula").glob("*.yaml"))}


@cache
def _nav_defaults() -> dict[str, Any]:
    from vbot_agent.config import to_dict
    from vbot_agent.sim.navigation import NavConfig

    return to_dict(NavConfig())


def default_scales() -> dict[str, float]:
    from vbot_agent.sim.rewards import DEFAULT_SCALES

    return dict(DEFAULT_SCALES)


def distance_ranges() -> list[tuple[float, float]]:
    """Every target-distance range a shipped plan stage uses, the default one, and the competition ring (m)."""
    ranges = [tuple(s["env"]["spawn"]["target_distance"]) for plan in _plans().values() for s in plan["stages"]
              if "target_distance" in (s.get("env") or {}).get("spawn", {})]
    spawn = _nav_defaults()["spawn"]
    return [*ranges, tuple(spawn["target_distance"]), tuple(spawn["ring_radius"])]


def success_bars() -> set[float]:
    return {float(s["promote"]["success_rate"]) for plan in _plans().values() for s in plan["stages"]}


def lr_multipliers() -> set[float]:
    return {float((s.get("warm_start") or {}).get("lr_multiplier", 1.0)) for plan in _plans().values()
            for s in plan["stages"]}


def _lazy_robot_arithmetic() -> tuple[float, float, float]:
    """(alive per step, steps per episode, alive per episode) of the lazy_robot preset at 100 Hz."""
    from vbot_agent.sim.navigation import CONTROL_DT

    alive = float(_seed_yaml("reward_library/lazy_robot.yaml")["reward"]["scales"]["alive"]) * CONTROL_DT
    steps = _nav_defaults()["episode_length_s"] / CONTROL_DT
    return alive, steps, alive * steps


# ----------------------------------------------------------------------------------- rules
@dataclass(frozen=True)
class QuoteRule:
    """A form of quote (``pattern``) and the check of each match's groups; ``skills`` None: every skill."""

    name: str
    pattern: str
    check: Callable[[tuple[str, ...]], str | None]  # None when true, else what the source says
    skills: tuple[str, ...] | None = None


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _check_scale(groups: tuple[str, ...]) -> str | None:
    term, value = groups[0], float(groups[1])
    scales = default_scales()
    if term not in scales:
        return None  # a backticked word that is not a reward term
    return None if _close(scales[term], value) else \
        f"the default scale of {term} is {scales[term]:g} (RewardConfig / reward_library/default.yaml)"


def _check_range(groups: tuple[str, ...]) -> str | None:
    lo, hi = float(groups[0]), float(groups[1])
    known = distance_ranges()
    return None if any(_close(lo, a) and _close(hi, b) for a, b in known) else \
        f"no shipped plan stage, default spawn or competition ring is {lo:g}-{hi:g} m (they are " \
        + ", ".join(f"{a:g}-{b:g}" for a, b in dict.fromkeys(known)) + ")"


def _in(values: Callable[[], Iterable[float]], what: str) -> Callable[[tuple[str, ...]], str | None]:
    def check(groups: tuple[str, ...]) -> str | None:
        allowed = sorted(set(values()))
        bad = [g for g in groups if g is not None and not any(_close(float(g), a) for a in allowed)]
        return None if not bad else f"{', '.join(bad)} is not {what} (those are {', '.join(f'{a:g}' for a in allowed)})"
    return check


def _equals(value: Callable[[], float], what: str) -> Callable[[tuple[str, ...]], str | None]:
    def check(groups: tuple[str, ...]) -> str | None:
        bad = [g for g in groups if g is not None and not _close(float(g), value())]
        return None if not bad else f"{what} is {value():g}"
    return check


def _check_plan_bars(groups: tuple[str, ...]) -> str | None:
    """"`spawn_distance` asks for 0.6, 0.6 and 0.5": the named plan's bars, stage by stage."""
    plans = _plans()
    if groups[0] not in plans:
        return f"there is no shipped plan {groups[0]!r} (plans: {', '.join(plans)})"
    quoted = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", groups[1])]
    bars = [float(st["promote"]["success_rate"]) for st in plans[groups[0]]["stages"]]
    same = len(quoted) == len(bars) and all(_close(a, b) for a, b in zip(quoted, bars))
    return None if same else f"plan {groups[0]} asks for {', '.join(f'{b:g}' for b in bars)}"


def _check_lazy(groups: tuple[str, ...]) -> str | None:
    expected = _lazy_robot_arithmetic()
    bad = [f"{g} (should be {e:g})" for g, e in zip(groups, expected) if g is not None and not _close(float(g), e)]
    return None if not bad else "the lazy_robot preset's alive bonus gives " + ", ".join(bad)


CURRICULUM = ("curriculum-learning",)
RULES: tuple[QuoteRule, ...] = (
    QuoteRule("default reward scale", rf"`([a-z_]+)`\s+{NUMBER}(?![\d.]*\s*(?:m\b|s\b|%))", _check_scale),
    QuoteRule("target distance range", rf"{NUMBER}\s*-\s*{NUMBER}\s*m\b", _check_range),
    QuoteRule("curriculum success bar", rf"(?:>=|≥)\s*{NUMBER}", _in(success_bars, "a shipped plan's success bar"),
              CURRICULUM),
    QuoteRule("a plan's success bars", r"`([a-z_]+)` asks? for (\d+(?:\.\d+)?(?:(?:, |,? and )\d+(?:\.\d+)?)*)", _check_plan_bars),
    QuoteRule("warm-start learning-rate multiplier", rf"{NUMBER}\s*×", _in(lr_multipliers, "a shipped lr_multiplier"),
              CURRICULUM),
    # "within X m" names the reach radius or the inner fence; forms naming the fence are checked below.
    QuoteRule("competition radius", rf"(?:inside|within|at the) {NUMBER} m\b(?! (?:inner )?fence)",
              _in(lambda: (_nav_defaults()["reach_radius"], _nav_defaults()["inner_fence"]),
                  "the reach radius or the inner fence (NavConfig)")),
    QuoteRule("inner fence", rf"{NUMBER} m (?:inner )?fence|fence \(within {NUMBER} m",
              _equals(lambda: _nav_defaults()["inner_fence"], "the inner fence (NavConfig.inner_fence)")),
    QuoteRule("progress speed cap", rf"capped at {NUMBER} m/s",
              _equals(lambda: _seed_default_cap(), "progress_speed_cap (RewardConfig)")),
    QuoteRule("lazy robot arithmetic", rf"alive bonus of {NUMBER} per step is worth [\d.]+ × {NUMBER} = {NUMBER}",
              _check_lazy),
)


def _seed_default_cap() -> float:
    from vbot_agent.sim.rewards import RewardConfig

    return float(RewardConfig().progress_speed_cap)


def check_skill_quotes(skill: Skill, rules: tuple[QuoteRule, ...] = RULES) -> list[SkillIssue]:
    """Every quote in ``skill`` that one of ``rules`` recognises and its source contradicts."""
    text = normalise(skill.path.read_text(encoding="utf-8"))
    issues = []
    for rule in rules:
        if rule.skills is not None and skill.name not in rule.skills:
            continue
        for match in re.finditer(rule.pattern, text):
            problem = rule.check(match.groups())
            if problem:
                line = text.count("\n", 0, match.start()) + 1
                issues.append(SkillIssue(skill.path, line, f"{rule.name}: {match.group(0)!r} is not what ships: {problem}"))
    return issues


def quoted(skill: Skill, rules: tuple[QuoteRule, ...] = RULES) -> list[tuple[str, str]]:
    """(rule name, quoted text) of every quote the rules recognise in ``skill`` (for tests and review)."""
    text = normalise(skill.path.read_text(encoding="utf-8"))
    return [(rule.name, m.group(0)) for rule in rules if rule.skills is None or skill.name in rule.skills
            for m in re.finditer(rule.pattern, text)]
