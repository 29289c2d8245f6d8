"""Reward diagnosis of a training run (docs/design.md, "Campaigns"): known failure modes from the logged series.

Applies one rule per failure mode to a run read by ``run_data``. Each rule returns a :class:`Finding`
with the numbers it saw, the likely cause, the fix, and the ``vbot`` command that tests the fix
(usually ``vbot reward audit --run RUN --set ...``, which replays the reference behaviours under
the run's reward with the fix applied, in seconds).

Thresholds are module constants with the reason beside each; a rule that lacks the series it
needs stays quiet (and ``diagnose`` lists what was missing).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vbot_agent.rewards.run_data import (
    TAG_DISTANCE,
    TAG_FALL,
    TAG_LENGTH,
    TAG_RETURN,
    TAG_STD,
    TAG_SUCCESS,
    TAIL,
    Finding,
    RunData,
)

MIN_POINTS = 5  # fewer logged points than this: too early to judge trends
STD_FLOOR = 0.05  # policy std below this (actions in [-1, 1]) explores almost nothing
STD_DROP = 0.1  # ... or fell to a tenth of its start while the task is unsolved
SOLVED = 0.8  # success rate above which collapse/laziness rules stay quiet
NEVER_FIRES = 1e-9  # |per-step mean| below this over the whole run: the term never fired
MIN_ENV_STEPS = 1_000_000  # outcome rules judge what was learned; before this, too early to tell
WEAK_PROGRESS = 0.5  # progress scale x speed cap (reward/s at full approach speed) below this is weak


# ----------------------------------------------------------------------------------- rules


def _fmt(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def rule_dead_gradient(data: RunData) -> Finding | None:
    dist = data.series(TAG_DISTANCE)
    if dist is None or len(dist) < MIN_POINTS:
        return None
    progress_scale = data.scales.get("progress", 0.0)
    cap = float((data.config.get("reward") or {}).get("progress_speed_cap", 1.0))
    shares = data.term_shares()
    positive = sum(v for v in shares.values() if v > 0)
    progress_share = max(shares.get("progress", 0.0), 0.0) / positive if positive > 0 else 0.0
    stuck = dist.last > 0.8 * dist.first and dist.last > 2.0
    if not stuck or progress_scale * cap >= WEAK_PROGRESS:
        return None
    return Finding(
        "dead_gradient_at_distance", "high", "No reward gradient far from the target",
        {"distance_first_m": _fmt(dist.first), "distance_last_m": _fmt(dist.last),
         "progress_scale": progress_scale, "progress_speed_cap": cap,
         "progress_share_of_positive_reward": _fmt(progress_share)},
        "the distance to the target did not fall, and almost nothing in the reward changes with it far away "
        "(progress is off or tiny; arrival and hold pay only at the target)",
        "reward the approach at every distance: reward.scales.progress around 2 (it is capped at 1 m/s)",
        data.audit_command("reward.scales.progress=2.0"),
    )


def rule_termination_dominates(data: RunData) -> Finding | None:
    term = data.term("termination")
    if term is None:
        return None
    shares = data.term_shares()
    positive = sum(v for k, v in shares.items() if v > 0 and k != "termination")
    cost = -float(np.mean(term.values))
    if cost <= 0 or cost <= positive:
        return None
    return Finding(
        "termination_dominates", "high", "The fall penalty outweighs everything the policy earns",
        {"termination_per_step": _fmt(-cost), "positive_terms_per_step": _fmt(positive),
         "ratio": _fmt(cost / positive) if positive > 0 else None,
         "termination_scale": data.scales.get("termination")},
        "per step, the termination penalty costs more than all positive terms pay together: the value "
        "function is dominated by falls, so the policy learns to avoid moving rather than to arrive",
        "make the positive terms carry the return (raise progress/arrival) or shrink the termination "
        "penalty to about the arrival bonus",
        data.audit_command(f"reward.scales.termination={-abs(data.scales.get('arrival', 10.0) or 10.0)}"),
    )


def rule_std_collapse(data: RunData) -> Finding | None:
    std = data.series(TAG_STD)
    if std is None or len(std) < MIN_POINTS:
        return None
    success = data.last(TAG_SUCCESS, "success_rate")
    unsolved = success is None or success < SOLVED
    collapsed = std.last < STD_FLOOR or (std.first > 0 and std.last / std.first < STD_DROP and unsolved)
    if not collapsed or not unsolved:
        return None
    entropy_coef = (data.config.get("ppo") or {}).get("entropy_coef")
    return Finding(
        "std_collapse", "high", "Policy std collapsed before the task was solved",
        {"std_first": _fmt(std.first), "std_last": _fmt(std.last), "success_last": _fmt(success),
         "entropy_coef": entropy_coef},
        "exploration stopped: the Gaussian policy's std shrank to almost nothing while success is low, "
        "so PPO can no longer find better actions",
        "raise ppo.entropy_coef (e.g. x2-x4) or policy.init_noise_std; a too-high learning rate also "
        "collapses the std",
        data.train_command(f"ppo.entropy_coef={max(0.01, 2 * float(entropy_coef or 0.005)):g}"),
    )


def rule_untrained_targets(data: RunData) -> Finding | None:
    spawn = (data.config.get("env") or {}).get("spawn") or {}
    if not spawn:
        return None
    layout = spawn.get("layout", "random")
    problems = []
    if layout == "competition":
        problems.append("layout 'competition': the target is always the arena centre")
    elif layout in ("random", "auto") and float(spawn.get("target_area_radius", 2.0)) <= 0.0:
        problems.append("target_area_radius 0: the target is always the centre")
    lo, hi = (spawn.get("target_yaw") or [-math.pi, math.pi])[:2]
    if abs(hi - lo) < 1e-9:
        problems.append(f"target_yaw fixed at {lo}")
    d_lo, d_hi = (spawn.get("target_distance") or [3.0, 8.0])[:2]
    if layout in ("random", "auto") and abs(d_hi - d_lo) < 1e-9:
        problems.append(f"target_distance fixed at {d_lo} m")
    if not problems:
        return None
    return Finding(
        "untrained_targets", "medium", "Targets are not randomised in training",
        {"layout": layout, "target_area_radius": spawn.get("target_area_radius"),
         "target_yaw": spawn.get("target_yaw"), "target_distance": spawn.get("target_distance"),
         "problems": problems},
        "; ".join(problems) + ": the policy only ever sees one kind of target and will not generalise "
        "to others (the competition spawns on a 10-12 m ring, targets elsewhere in training)",
        "train with random targets (env.spawn.layout random, target_area_radius ~2 m, target_yaw over "
        "the full circle, a distance range) and evaluate on the competition layout",
        data.train_command("env.spawn.layout=random", "env.spawn.target_area_radius=2.0"),
    )


def rule_lazy_robot(data: RunData) -> Finding | None:
    dist, length = data.series(TAG_DISTANCE), data.series(TAG_LENGTH)
    success = data.last(TAG_SUCCESS, "success_rate")
    fall = data.last(TAG_FALL, "fall_rate")
    if dist is None or length is None or success is None or len(dist) < MIN_POINTS:
        return None
    final_dist = data.last(TAG_DISTANCE, "mean_final_distance_m")
    full_episodes = length.last >= 0.9 * data.max_episode_steps
    stays = final_dist is not None and final_dist > 0.7 * dist.first and final_dist > 1.0
    if not (full_episodes and stays and success < 0.1 and (fall is None or fall < 0.1)):
        return None
    shares = data.term_shares()
    survival = {k: _fmt(v) for k, v in shares.items() if k in ("alive", "heading", "near_target") and v > 0}
    alive = data.scales.get("alive", 0.0)
    return Finding(
        "lazy_robot", "high", "The robot learned to stand still",
        {"success_last": _fmt(success), "fall_last": _fmt(fall), "episode_steps_last": _fmt(length.last),
         "max_episode_steps": data.max_episode_steps, "distance_first_m": _fmt(dist.first),
         "distance_last_m": _fmt(final_dist), "alive_scale": alive, "survival_terms_per_step": survival},
        "episodes run to the time limit without falls, the distance does not shrink and nothing arrives: "
        "standing still earns (nearly) as much as trying"
        + (f"; the alive bonus pays {alive * data.max_episode_steps * 0.01:.0f} per episode" if alive > 0 else ""),
        "remove survival bonuses (reward.scales.alive=0) and make progress/arrival the bulk of the return; "
        "audit it first",
        data.audit_command("reward.scales.alive=0") if alive > 0 else data.audit_command("reward.scales.progress=3.0"),
    )


def rule_sprint_and_crash(data: RunData) -> Finding | None:
    fall = data.last(TAG_FALL, "fall_rate")
    ret, length = data.series(TAG_RETURN), data.series(TAG_LENGTH)
    if fall is None or ret is None or length is None or len(ret) < MIN_POINTS:
        return None
    arrival = data.term("arrival")
    arrives = arrival is not None and float(np.mean(arrival.values[-max(1, int(len(arrival) * TAIL)):])) > 0
    short = length.last < 0.6 * data.max_episode_steps
    if not (fall > 0.3 and arrives and short and ret.last > ret.first):
        return None
    return Finding(
        "sprint_and_crash", "high", "The robot reaches the target fast and falls",
        {"fall_last": _fmt(fall), "return_first": _fmt(ret.first), "return_last": _fmt(ret.last),
         "episode_steps_last": _fmt(length.last), "termination_scale": data.scales.get("termination"),
         "progress_speed_cap": (data.config.get("reward") or {}).get("progress_speed_cap")},
        "the return rises while most episodes end in a fall soon after arriving: arriving pays and "
        "falling afterwards costs less than staying up earns (touch-and-die)",
        "make a fall cost more than arrival pays (reward.scales.termination <= -arrival), pay hold for "
        "staying, and cap progress near walking speed",
        data.audit_command(f"reward.scales.termination={-2 * abs(data.scales.get('arrival', 10.0) or 10.0)}",
                   "reward.progress_speed_cap=1.0"),
    )


def rule_reach_and_farm(data: RunData) -> Finding | None:
    entry = data.term("entry")
    scale = data.scales.get("entry", 0.0)
    length = data.series(TAG_LENGTH)
    if entry is None or scale == 0.0 or length is None:
        return None
    per_episode = entry.last / scale * length.last  # entries per episode
    if per_episode <= 1.5:
        return None
    return Finding(
        "reach_and_farm", "high", "The target is entered again and again to farm a bonus",
        {"entries_per_episode": _fmt(per_episode), "entry_scale": scale},
        "a bonus is paid on every entry into the target radius; leaving and re-entering pays more than staying",
        "pay arrival once per episode (reward.scales.entry=0, reward.scales.arrival=10) and reward staying with hold",
        data.audit_command("reward.scales.entry=0", "reward.scales.arrival=10"),
    )


def rule_hovering(data: RunData) -> Finding | None:
    success = data.last(TAG_SUCCESS, "success_rate")
    final_dist = data.last(TAG_DISTANCE, "mean_final_distance_m")
    if success is None or final_dist is None:
        return None
    radius = float((data.config.get("env") or {}).get("reach_radius", 0.3))
    if not (radius < final_dist < 1.0 and success < 0.3):
        return None
    near = data.scales.get("near_target", 0.0)
    return Finding(
        "hovering_near_target", "medium", "The robot stops near the target but not on it",
        {"distance_last_m": _fmt(final_dist), "reach_radius_m": radius, "success_last": _fmt(success),
         "near_target_scale": near, "hold_scale": data.scales.get("hold")},
        "the mean distance ends under 1 m yet few episodes enter the reach radius: being near pays about "
        "as much as arriving" + (" (near_target pays anywhere inside the fence)" if near else ""),
        "pay for the centre, not the zone: arrival once plus hold inside the reach radius; near_target 0",
        data.audit_command("reward.scales.near_target=0", "reward.scales.arrival=10", "reward.scales.hold=2"),
    )


def rule_die_early(data: RunData) -> Finding | None:
    length = data.series(TAG_LENGTH)
    fall = data.last(TAG_FALL, "fall_rate")
    if length is None or fall is None or len(length) < MIN_POINTS:
        return None
    shares = data.term_shares()
    per_step_without_fall = sum(v for k, v in shares.items() if k != "termination")
    shrinking = length.last < 0.5 * length.first or length.last < 0.25 * data.max_episode_steps
    if not (shrinking and fall > 0.5 and per_step_without_fall < 0):
        return None
    return Finding(
        "die_early", "high", "Episodes get shorter and end in falls: dying early pays",
        {"episode_steps_first": _fmt(length.first), "episode_steps_last": _fmt(length.last),
         "fall_last": _fmt(fall), "reward_per_step_without_termination": _fmt(per_step_without_fall),
         "termination_scale": data.scales.get("termination")},
        "the per-step reward is negative, so every extra second costs; a fall ends the cost sooner than "
        "walking to the target pays it back",
        "make the per-step reward of a robot doing the right thing positive (drop time costs such as a "
        "negative alive, shrink penalties) and keep the fall penalty larger than what dying saves",
        data.audit_command("reward.scales.alive=0"),
    )


def rule_terms_never_fire(data: RunData) -> Finding | None:
    silent, missing, quiet_penalties = [], [], []
    for name, scale in data.scales.items():
        if scale == 0.0:
            continue
        s = data.term(name)
        if s is None:
            (missing if scale > 0 else quiet_penalties).append(name)
        elif np.all(np.abs(s.values) < NEVER_FIRES):
            # A penalty that never applies is good news (no falls, joints inside their limits).
            (silent if scale > 0 else quiet_penalties).append(name)
    if not silent and not missing:
        return None
    return Finding(
        "terms_never_fire", "medium", "Reward terms with a positive scale that never paid anything",
        {"never_fired": silent, "not_logged": missing, "penalties_never_applied": quiet_penalties,
         "scales": {k: data.scales[k] for k in silent + missing}},
        "a reward term stayed exactly 0 for the whole run: its condition is never met (e.g. arrival "
        "when nothing reaches the target) or it is not what you think it is",
        "check the condition against the behaviour you see; if the term cannot fire yet, shape the "
        "reward so the robot gets there (progress), or set its scale to 0 and search it later",
        data.audit_command(),
    )


def rule_unused_search_keys(data: RunData, search_space: dict[str, Any] | None) -> Finding | None:
    if not search_space:
        return None
    from vbot_agent.sim.rewards import TERMS, RewardConfig

    params = search_space.get("params", search_space)
    shaping = {f for f in RewardConfig.__dataclass_fields__ if f != "scales"}
    unknown, zero, silent = [], [], []
    for key in params:
        if not str(key).startswith("reward."):
            continue
        parts = str(key).split(".")
        if parts[1] == "scales" and len(parts) == 3:
            name = parts[2]
            if name not in TERMS:
                unknown.append(key)
            else:
                s = data.term(name)
                if s is None:
                    zero.append(key)
                elif np.all(np.abs(s.values) < NEVER_FIRES):
                    silent.append(key)
        elif len(parts) != 2 or parts[1] not in shaping:
            unknown.append(key)
    if not (unknown or zero or silent):
        return None
    return Finding(
        "unused_search_keys", "medium", "Search-space keys the reward never uses",
        {"unknown_keys": unknown, "terms_off_in_this_run": zero, "terms_that_never_fired": silent},
        "trials spend budget on reward weights that cannot change the return: unknown names, terms with "
        "scale 0 here, or terms that never fire",
        "remove those keys from the search space (or fix their names) so the sampler searches what matters",
        "vbot reward audit --run " + str(data.run_dir),
    )


def rule_peaked_and_declined(data: RunData) -> Finding | None:
    s = data.series(TAG_SUCCESS)
    label = "success_rate"
    if s is None or np.max(s.values) < 0.05:
        s, label = data.series(TAG_RETURN), "return"
    if s is None or len(s) < 2 * MIN_POINTS:
        return None
    k = int(np.argmax(s.values))
    drop = s.peak - s.last
    scale = abs(s.peak) if label == "return" else 1.0
    if k >= len(s) - max(1, int(len(s) * TAIL)) or drop < max(0.15 * scale, 0.3 * abs(s.peak)):
        return None
    lr = (data.config.get("ppo") or {}).get("learning_rate")
    schedule = (data.config.get("ppo") or {}).get("schedule")
    return Finding(
        "peaked_and_declined", "medium", f"The learning curve ({label}) peaked and declined",
        {"metric": label, "peak": _fmt(s.peak), "peak_at_env_steps": int(s.steps[k]), "last": _fmt(s.last),
         "learning_rate": lr, "schedule": schedule},
        "the policy got worse after its best point: a late exploit of the reward, or a learning rate too "
        "high for a long run (the adaptive-KL schedule was unstable in the prior art)",
        "keep the best checkpoint (checkpoints/best.pt), check which Reward Instant term rose after the "
        "peak, and retrain with the linear schedule and a lower learning rate",
        f"vbot play --policy {data.run_dir / 'checkpoints' / 'best.pt'}",
    )


# Rules on the config and on per-step magnitudes hold at any time; rules on what was learned need
# MIN_ENV_STEPS of training first.
CONFIG_RULES: tuple[Callable[[RunData], Finding | None], ...] = (rule_termination_dominates, rule_untrained_targets)
OUTCOME_RULES: tuple[Callable[[RunData], Finding | None], ...] = (
    rule_dead_gradient, rule_std_collapse, rule_lazy_robot, rule_sprint_and_crash, rule_reach_and_farm,
    rule_hovering, rule_die_early, rule_terms_never_fire, rule_peaked_and_declined,
)
RULES = CONFIG_RULES + OUTCOME_RULES
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass
class Diagnosis:
    run_dir: str
    env_id: str
    findings: list[Finding] = field(default_factory=list)
    missing_series: list[str] = field(default_factory=list)
    rollout: dict[str, Any] | None = None
    env_steps: int = 0
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run_dir, "env_id": self.env_id, "env_steps": self.env_steps, "note": self.note,
                "findings": [f.to_dict() for f in self.findings], "missing_series": self.missing_series,
                "rollout": self.rollout}


def diagnose(data: RunData, search_space: dict[str, Any] | None = None) -> Diagnosis:
    """Apply every rule to ``data``; findings sorted by severity."""
    early = data.env_steps < MIN_ENV_STEPS
    rules = CONFIG_RULES if early else RULES
    findings = [f for rule in rules if (f := rule(data)) is not None]
    extra = rule_unused_search_keys(data, search_space)
    if extra is not None:
        findings.append(extra)
    findings.sort(key=lambda f: SEVERITY_ORDER.get(f.severity, 9))
    wanted = (TAG_RETURN, TAG_LENGTH, TAG_DISTANCE, TAG_SUCCESS, TAG_FALL, TAG_STD)
    missing = [t for t in wanted if data.series(t) is None]
    note = (f"only {data.env_steps} env steps logged (< {MIN_ENV_STEPS}): too early to judge what was learned; "
            "config rules only" if early else None)
    return Diagnosis(str(data.run_dir), data.env_id, findings, missing, data.rollout, data.env_steps, note)
