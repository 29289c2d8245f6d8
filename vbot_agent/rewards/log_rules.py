"""Diagnosis rules over a run's logged series: one rule per known failure mode.

Two kinds, by the evidence they need:

- *trend* rules (``TREND_RULES``) read the composition of the per-step reward or a trend that is
  unambiguous early (return rising while nothing approaches the target); they need ``MIN_POINTS``
  logged points and run at any age;
- *outcome* rules (``OUTCOME_RULES``) judge what the policy learned; they also need
  ``MIN_ENV_STEPS`` of training, before which a young run looks like a failing one.

Each rule returns a :class:`Finding` whose evidence holds the numbers it judged (never None), or
None. Thresholds are module constants with the reason beside each.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vbot_agent.rewards.findings import Finding, audit_cmd, fmt, term_means, train_cmd
from vbot_agent.rewards.run_data import (
    TAG_DISTANCE,
    TAG_FALL,
    TAG_LENGTH,
    TAG_RETURN,
    TAG_STD,
    TAG_SUCCESS,
    TAIL,
    RunData,
)

MIN_POINTS = 5  # fewer logged points than this: too early to judge trends
MIN_ENV_STEPS = 1_000_000  # outcome rules judge what was learned; before this, too early to tell
STD_FLOOR = 0.05  # policy std below this (actions in [-1, 1]) explores almost nothing
STD_DROP = 0.1  # ... or fell to a tenth of its start while the task is unsolved
SOLVED = 0.8  # success rate above which collapse/laziness rules stay quiet
NEVER_FIRES = 1e-9  # |per-step mean| below this over the whole run: the term never fired
WEAK_PROGRESS = 0.5  # progress scale x speed cap (reward/s at full approach speed) below this is weak
# Terms a robot standing still earns every step it stays up (heading: facing the target costs no
# walking). The audit's verdict uses the same share: standing may earn at most half of walking.
SURVIVAL_TERMS = ("alive", "heading", "near_target")
SURVIVAL_SHARE = 0.5
RETURN_RISE = 1.0  # return units: a rise smaller than this (or 10% of the start) is noise


def _points(series, n: int = MIN_POINTS) -> bool:
    return series is not None and len(series) >= n


def _positive_total(means: dict[str, float], skip: tuple[str, ...] = ()) -> float:
    return sum(v for k, v in means.items() if v > 0 and k not in skip)


# ----------------------------------------------------------------------------------- trend rules


def rule_standing_dominance(data: RunData) -> Finding | None:
    """A per-step term paid for surviving carries most of what the policy earns."""
    means = term_means(data)
    if not means or not all(_points(data.term(k)) for k in means):
        return None
    survival = {k: v for k, v in means.items() if k in SURVIVAL_TERMS and v > 0}
    positive = _positive_total(means)
    if not survival or positive <= 0:
        return None
    share = sum(survival.values()) / positive
    if share <= SURVIVAL_SHARE or sum(survival.values()) * data.max_episode_steps < RETURN_RISE:
        return None  # a share of almost nothing (all terms ~0 early on) is not dominance
    biggest = max(survival, key=survival.get)
    per_episode = survival[biggest] * data.max_episode_steps
    scale = data.scales.get(biggest, 0.0)
    return Finding(
        "standing_dominance", "high", "Most of the return is paid for surviving, not for arriving",
        {"survival_terms_per_step": {k: fmt(v) for k, v in survival.items() if v},
         "positive_terms_per_step": fmt(positive), "survival_share": fmt(share),
         f"{biggest}_per_episode_standing": fmt(per_episode), f"{biggest}_scale": scale},
        f"{biggest} pays {survival[biggest]:.4g} per step ({per_episode:.0f} over a full episode) whether or not the "
        f"robot moves; that is {share:.0%} of all positive reward, so standing still is nearly as good as arriving",
        f"set reward.scales.{biggest} to 0 (or far smaller) and let progress, arrival and hold carry the return; "
        "audit it first",
        audit_cmd(data, {f"reward.scales.{biggest}": 0.0 if biggest == "alive" else round(scale / 4, 6)}),
    )


def rule_lazy_robot(data: RunData) -> Finding | None:
    """The return rises while success stays at 0 and the distance to the target does not fall."""
    ret, dist, length = data.series(TAG_RETURN), data.series(TAG_DISTANCE), data.series(TAG_LENGTH)
    success = data.last(TAG_SUCCESS, "success_rate")
    if not (_points(ret) and _points(dist)) or success is None:
        return None
    final_dist = data.last(TAG_DISTANCE, "mean_final_distance_m")
    rise = ret.last - ret.first
    rising = rise > max(RETURN_RISE, 0.1 * abs(ret.first))
    stays = final_dist > 0.8 * dist.first and final_dist > 1.0
    if not (rising and stays and success < 0.1):
        return None
    means = term_means(data)
    positive = _positive_total(means)
    survival = sum(v for k, v in means.items() if k in SURVIVAL_TERMS and v > 0)
    share = survival / positive if positive > 0 else 0.0
    # Early in a healthy run the return also rises as falls become rarer; only a survival-paid
    # return makes the trend conclusive before MIN_ENV_STEPS.
    if data.env_steps < MIN_ENV_STEPS and share <= SURVIVAL_SHARE:
        return None
    evidence = {"return_first": fmt(ret.first), "return_last": fmt(ret.last), "success_last": fmt(success),
                "distance_first_m": fmt(dist.first), "distance_last_m": fmt(final_dist),
                "survival_share_of_positive_reward": fmt(share), "env_steps": data.env_steps}
    if length is not None:
        evidence.update(episode_steps_last=fmt(length.last), max_episode_steps=data.max_episode_steps)
    fall = data.last(TAG_FALL, "fall_rate")
    if fall is not None:
        evidence["fall_last"] = fmt(fall)
    alive = data.scales.get("alive", 0.0)
    return Finding(
        "lazy_robot", "high", "The robot learned to stand still",
        evidence,
        f"the return rose from {ret.first:.1f} to {ret.last:.1f} while success stayed {success:.2f} and the "
        f"distance stayed at {final_dist:.1f} m: the return is earned by something other than arriving"
        + (f"; the alive bonus pays {alive * data.max_episode_steps * 0.01:.0f} per episode" if alive > 0 else ""),
        "remove survival bonuses (reward.scales.alive=0) and make progress/arrival the bulk of the return; "
        "audit it first",
        audit_cmd(data, {"reward.scales.alive": 0.0} if alive > 0 else
                  {"reward.scales.progress": max(3.0, 2 * data.scales.get("progress", 0.0))}),
    )


# ----------------------------------------------------------------------------------- outcome rules


def rule_dead_gradient(data: RunData) -> Finding | None:
    dist = data.series(TAG_DISTANCE)
    if not _points(dist):
        return None
    progress_scale = data.scales.get("progress", 0.0)
    cap = float((data.config.get("reward") or {}).get("progress_speed_cap", 1.0))
    means = term_means(data)
    positive = _positive_total(means)
    progress_share = max(means.get("progress", 0.0), 0.0) / positive if positive > 0 else 0.0
    stuck = dist.last > 0.8 * dist.first and dist.last > 2.0
    if not stuck or progress_scale * cap >= WEAK_PROGRESS:
        return None
    return Finding(
        "dead_gradient_at_distance", "high", "No reward gradient far from the target",
        {"distance_first_m": fmt(dist.first), "distance_last_m": fmt(dist.last),
         "progress_scale": progress_scale, "progress_speed_cap": cap,
         "progress_share_of_positive_reward": fmt(progress_share)},
        "the distance to the target did not fall, and almost nothing in the reward changes with it far away "
        "(progress is off or tiny; arrival and hold pay only at the target)",
        "reward the approach at every distance: reward.scales.progress around 2 (it is capped at 1 m/s)",
        audit_cmd(data, {"reward.scales.progress": 2.0}),
    )


def rule_termination_dominates(data: RunData) -> Finding | None:
    term = data.term("termination")
    scale = data.scales.get("termination", 0.0)
    if not _points(term) or scale >= 0:
        return None
    means = term_means(data)
    positive = _positive_total(means, skip=("termination",))
    cost = -float(np.mean(term.values))
    if positive <= 0 or cost <= positive:
        return None  # nothing positive earned is a different failure (dead gradient, never fires)
    return Finding(
        "termination_dominates", "high", "The fall penalty outweighs everything the policy earns",
        {"termination_per_step": fmt(-cost), "positive_terms_per_step": fmt(positive),
         "ratio": fmt(cost / positive), "termination_scale": scale},
        f"per step, the termination penalty costs {cost:.4g}, {cost / positive:.1f}x what all positive terms pay "
        "together: the value function is dominated by falls, so the policy learns to avoid moving rather "
        "than to arrive",
        "make the positive terms carry the return (raise progress/arrival) or shrink the termination penalty",
        audit_cmd(data, {"reward.scales.termination": scale / 2}),
    )


def rule_std_collapse(data: RunData) -> Finding | None:
    std = data.series(TAG_STD)
    if not _points(std):
        return None
    success = data.last(TAG_SUCCESS, "success_rate")
    unsolved = success is None or success < SOLVED
    collapsed = std.last < STD_FLOOR or (std.first > 0 and std.last / std.first < STD_DROP and unsolved)
    if not collapsed or not unsolved:
        return None
    entropy_coef = float((data.config.get("ppo") or {}).get("entropy_coef") or 0.0)
    evidence = {"std_first": fmt(std.first), "std_last": fmt(std.last), "entropy_coef": entropy_coef}
    if success is not None:
        evidence["success_last"] = fmt(success)
    return Finding(
        "std_collapse", "high", "Policy std collapsed before the task was solved",
        evidence,
        "exploration stopped: the Gaussian policy's std shrank to almost nothing while success is low, "
        "so PPO can no longer find better actions",
        "raise ppo.entropy_coef (e.g. x2-x4) or policy.init_noise_std; a too-high learning rate also "
        "collapses the std",
        train_cmd(data, {"ppo.entropy_coef": max(0.01, 2 * (entropy_coef or 0.005))}),
    )


def rule_sprint_and_crash(data: RunData) -> Finding | None:
    fall = data.last(TAG_FALL, "fall_rate")
    ret, length = data.series(TAG_RETURN), data.series(TAG_LENGTH)
    if fall is None or not _points(ret) or length is None:
        return None
    arrival = data.term("arrival")
    arrives = arrival is not None and float(np.mean(arrival.values[-max(1, int(len(arrival) * TAIL)):])) > 0
    short = length.last < 0.6 * data.max_episode_steps
    if not (fall > 0.3 and arrives and short and ret.last > ret.first):
        return None
    arrival_scale = abs(data.scales.get("arrival", 10.0) or 10.0)
    return Finding(
        "sprint_and_crash", "high", "The robot reaches the target fast and falls",
        {"fall_last": fmt(fall), "return_first": fmt(ret.first), "return_last": fmt(ret.last),
         "episode_steps_last": fmt(length.last), "termination_scale": data.scales.get("termination", 0.0),
         "progress_speed_cap": (data.config.get("reward") or {}).get("progress_speed_cap", 1.0)},
        "the return rises while most episodes end in a fall soon after arriving: arriving pays and "
        "falling afterwards costs less than staying up earns (touch-and-die)",
        "make a fall cost more than arrival pays (reward.scales.termination <= -arrival), pay hold for "
        "staying, and cap progress near walking speed",
        audit_cmd(data, {"reward.scales.termination": min(data.scales.get("termination", 0.0), -2 * arrival_scale),
                         "reward.progress_speed_cap": 1.0}),
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
        {"entries_per_episode": fmt(per_episode), "entry_scale": scale},
        "a bonus is paid on every entry into the target radius; leaving and re-entering pays more than staying",
        "pay arrival once per episode (reward.scales.entry=0, reward.scales.arrival=10) and reward staying with hold",
        audit_cmd(data, {"reward.scales.entry": 0.0, "reward.scales.arrival": 10.0}),
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
        {"distance_last_m": fmt(final_dist), "reach_radius_m": radius, "success_last": fmt(success),
         "near_target_scale": near, "hold_scale": data.scales.get("hold", 0.0)},
        "the mean distance ends under 1 m yet few episodes enter the reach radius: being near pays about "
        "as much as arriving" + (" (near_target pays anywhere inside the fence)" if near else ""),
        "pay for the centre, not the zone: arrival once plus hold inside the reach radius; near_target 0",
        audit_cmd(data, {"reward.scales.near_target": 0.0, "reward.scales.arrival": 10.0,
                         "reward.scales.hold": max(2.0, 2 * data.scales.get("hold", 0.0))}),
    )


def rule_die_early(data: RunData) -> Finding | None:
    length = data.series(TAG_LENGTH)
    fall = data.last(TAG_FALL, "fall_rate")
    if not _points(length) or fall is None:
        return None
    means = term_means(data)
    per_step_without_fall = sum(v for k, v in means.items() if k != "termination")
    shrinking = length.last < 0.5 * length.first or length.last < 0.25 * data.max_episode_steps
    if not (shrinking and fall > 0.5 and per_step_without_fall < 0):
        return None
    costliest = min((k for k in means if k != "termination"), key=lambda k: means[k])
    # A negative alive is a pure time cost: drop it. Otherwise halve the costliest penalty.
    sets = ({"reward.scales.alive": 0.0} if data.scales.get("alive", 0.0) < 0 else
            {f"reward.scales.{costliest}": data.scales.get(costliest, 0.0) / 2})
    return Finding(
        "die_early", "high", "Episodes get shorter and end in falls: dying early pays",
        {"episode_steps_first": fmt(length.first), "episode_steps_last": fmt(length.last),
         "fall_last": fmt(fall), "reward_per_step_without_termination": fmt(per_step_without_fall),
         "costliest_term": costliest, "costliest_term_per_step": fmt(means[costliest]),
         "termination_scale": data.scales.get("termination", 0.0)},
        "the per-step reward is negative, so every extra second costs; a fall ends the cost sooner than "
        "walking to the target pays it back",
        "make the per-step reward of a robot doing the right thing positive (drop time costs such as a "
        "negative alive, shrink penalties) and keep the fall penalty larger than what dying saves",
        audit_cmd(data, sets),
    )


def _names(names: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def rule_terms_never_fire(data: RunData) -> Finding | None:
    from vbot_agent.sim.registry import has_competition

    silent, missing, quiet_penalties = [], [], []
    for name, scale in data.scales.items():
        if scale == 0.0 or (name == "points" and not has_competition(data.env_id)):
            continue  # the training terrain scores no competition points: its `points` cannot pay
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
        f"{_names(silent + missing)} stayed exactly 0 for the whole run: the condition is never met (e.g. "
        "arrival when nothing reaches the target) or the term is not what you think it is",
        "check the condition against the behaviour you see; if the term cannot fire yet, shape the "
        "reward so the robot gets there (progress), or set its scale to 0 and search it later",
        audit_cmd(data),  # per behaviour and term: does the term pay anything when the robot does it right?
    )


def rule_peaked_and_declined(data: RunData) -> Finding | None:
    s = data.series(TAG_SUCCESS)
    label = "success_rate"
    if s is None or np.max(s.values) < 0.05:
        s, label = data.series(TAG_RETURN), "return"
    if not _points(s, 2 * MIN_POINTS):
        return None
    # The peak is judged on the same window as the last value (a mean of 10% of the points): a
    # training curve's single best point is mostly noise (one lucky episode in a quiet window).
    window = max(1, int(len(s) * TAIL))
    smooth = np.convolve(s.values, np.ones(window) / window, mode="valid")
    k = int(np.argmax(smooth))
    peak, at = float(smooth[k]), int(s.steps[k + window - 1])
    drop = peak - s.last
    scale = abs(peak) if label == "return" else 1.0
    if k >= len(smooth) - max(1, window) or drop < max(0.15 * scale, 0.3 * abs(peak)):
        return None
    ppo = data.config.get("ppo") or {}
    lr = float(ppo.get("learning_rate") or 0.0)
    schedule = str(ppo.get("schedule", "?"))
    keep, play = _checkpoint_near(data, at)
    first = _first_saved(data)
    if first is not None and first > at:  # nothing kept holds the peak itself
        keep += (f" (though no checkpoint was saved before {first:,} env steps, after the peak at {at:,}: none "
                 "holds the peak, so compare it by playing before trusting it)")
    return Finding(
        "peaked_and_declined", "medium", f"The learning curve ({label}) peaked and declined",
        {"metric": label, "peak": fmt(peak), "peak_at_env_steps": at, "last": fmt(s.last),
         "smoothing_points": window, "learning_rate": lr, "schedule": schedule},
        "the policy got worse after its best point: a late exploit of the reward, or a learning rate too "
        "high for a long run" + (" (the adaptive-KL schedule was unstable in the prior art)" if schedule != "linear" else ""),
        f"keep {keep}, check which Reward Instant term rose after the peak, and retrain with "
        + ("a lower learning rate" if schedule == "linear" else "the linear schedule and a lower learning rate"),
        f"vbot play --env {data.env_id} --policy {play}",
    )


def _first_saved(data: RunData) -> int | None:
    """Env steps of the run's earliest periodic checkpoint; None when unknown."""
    per_iteration = int(data.config.get("num_envs") or 0) * int((data.config.get("ppo") or {}).get("num_steps_per_env") or 0)
    its = [int(f.stem[6:]) for f in (data.run_dir / "checkpoints").glob("model_*.pt") if f.stem[6:].isdigit()]
    return min(its) * per_iteration if per_iteration and its else None


def _checkpoint_near(data: RunData, env_steps: int) -> tuple[str, Path]:
    """What to keep of a run that peaked at ``env_steps``: its best.pt (picked by its evaluations),
    else the periodic checkpoint nearest the peak, else last.pt; (words, path)."""
    from vbot_agent.workspace.run_list import curriculum_best_checkpoint

    folder = data.run_dir / "checkpoints"
    if (folder / "best.pt").is_file():
        return "the best checkpoint (checkpoints/best.pt)", folder / "best.pt"
    stage_best = curriculum_best_checkpoint(data.run_dir)
    if stage_best is not None:  # a curriculum stage's run: the stage evaluated it and kept its best
        return f"the best checkpoint its curriculum stage kept ({stage_best.name}, as `vbot runs` names it)", stage_best
    per_iteration = int(data.config.get("num_envs") or 0) * int((data.config.get("ppo") or {}).get("num_steps_per_env") or 0)
    periodic = {int(f.stem.split("_")[1]): f for f in folder.glob("model_*.pt") if f.stem.split("_")[1].isdigit()}
    if per_iteration and periodic:
        it = min(periodic, key=lambda i: abs(i * per_iteration - env_steps))
        return (f"the periodic checkpoint nearest the peak ({periodic[it].name}, {it * per_iteration:,} env steps; "
                "the run has no best.pt: its evaluations were off)"), periodic[it]
    return "the last checkpoint (the run saved no best.pt or periodic one)", folder / "last.pt"


Rule = Callable[[RunData], "Finding | None"]
TREND_RULES: tuple[Rule, ...] = (rule_standing_dominance, rule_lazy_robot)
OUTCOME_RULES: tuple[Rule, ...] = (
    rule_dead_gradient, rule_termination_dominates, rule_std_collapse, rule_sprint_and_crash,
    rule_reach_and_farm, rule_hovering, rule_die_early, rule_terms_never_fire, rule_peaked_and_declined,
)


def is_finite_evidence(value) -> bool:
    """Evidence is numbers, names or lists/dicts of them; never None or NaN."""
    if value is None:
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(is_finite_evidence(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(is_finite_evidence(v) for v in value)
    return True
