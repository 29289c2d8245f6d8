"""Plan a campaign to fit its wall-clock budget, from training throughput measured on this machine.

``hp_trials``, ``trial_steps`` and ``final_steps`` left as ``auto`` (null) in the automl YAML and not
given as flags are planned here: ``vbot automl --budget-hours H`` alone picks them. The rules:

- A trial must be long enough for trials to differ. On section001 no policy reaches the target
  before about 4M env steps (the learning benchmark's first evaluation success), so shorter trials
  all score the same floor and the sampler learns nothing. ``min_trial_steps`` holds that figure.
- With the successive-halving pruner (the default), every trial trains to ``min_trial_steps``,
  where it is ranked against the trials ranked there before it; those in the top
  1/``reduction_factor`` train on to ``trial_steps`` (planned as ``min_trial_steps *
  reduction_factor``), continuing their own run. Trials run one after another, so the i-th is
  ranked among i: it goes on when it is among the best ``max(1, i // reduction_factor)`` (optuna's
  rule), which has chance ``max(1, i // reduction_factor) / i`` when trials come in random order.
  The first trial always goes on, and so does every trial that ties the best (a floor score).
- ``final_fraction`` of the budget goes to the final run (mode stage); the search gets the rest.
- Trials cost their env steps at the measured rate plus a fixed overhead (start-up and evaluation
  episodes, ``TRIAL_OVERHEAD_S``); a ``MARGIN`` of the budget is kept for the unforeseen.

The training rate is measured once per machine, env and env count (``vbot bench train`` through the
backend) and cached in ``starter_kit_schedule/progress/throughput.yaml``.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vbot_agent.config import load_yaml
from vbot_agent.errors import UsageError
from vbot_agent.fileio import atomic_write_yaml

TRIAL_OVERHEAD_S = 20.0  # start-up, intermediate and final evaluation episodes of one trial
MARGIN = 0.1  # share of the budget left unplanned
MIN_TRIALS = 4  # below this a search cannot tell trials apart, and the plan says so
PLANNED = ("hp_trials", "trial_steps", "final_steps")


@dataclass(frozen=True)
class CampaignPlan:
    """What a campaign will run, and how long that should take at ``env_steps_per_s``."""

    budget_hours: float
    env_steps_per_s: float
    throughput_source: str
    hp_trials: int
    trial_steps: int
    first_rung_steps: int  # where successive halving ranks trials (= trial_steps without it)
    final_steps: int
    search_hours: float
    final_hours: float
    warnings: tuple[str, ...] = ()

    @property
    def estimate_hours(self) -> float:
        return self.search_hours + self.final_hours

    def to_dict(self) -> dict[str, Any]:
        return {"budget_hours": self.budget_hours, "env_steps_per_s": round(self.env_steps_per_s, 1),
                "throughput_source": self.throughput_source, "hp_trials": self.hp_trials,
                "trial_steps": self.trial_steps, "first_rung_steps": self.first_rung_steps,
                "final_steps": self.final_steps,
                "search_hours": round(self.search_hours, 3), "final_hours": round(self.final_hours, 3),
                "estimate_hours": round(self.estimate_hours, 3), "warnings": list(self.warnings)}


def trial_hours(steps: int, env_steps_per_s: float) -> float:
    return (steps / env_steps_per_s + TRIAL_OVERHEAD_S) / 3600.0


def expected_full_trials(trials: int, reduction_factor: int) -> float:
    """How many of ``trials`` successive-halving trials are expected to train past their first rung."""
    return sum(max(1, i // reduction_factor) / i for i in range(1, trials + 1))


def search_seconds(trials: int, first_rung: int, trial_steps: int, reduction_factor: int | None,
                   env_steps_per_s: float) -> float:
    """Expected wall time of ``trials`` trials (``reduction_factor`` None: no halving, all run to the end)."""
    full = trials if reduction_factor is None else expected_full_trials(trials, reduction_factor)
    steps = trials * first_rung + full * (trial_steps - first_rung)
    return steps / env_steps_per_s + trials * TRIAL_OVERHEAD_S


def plan_campaign(settings, env_steps_per_s: float, source: str, known_good: int = 0) -> CampaignPlan:
    """Fill the ``auto`` (None) fields of ``settings`` (an AutomlSettings) for its budget.
    ``known_good``: how many of the search space's known-good configs are enqueued first.

    Raises UsageError when the budget cannot hold even one trial of ``min_trial_steps`` and its final run.
    """
    if env_steps_per_s <= 0:
        raise UsageError(f"measured training throughput is {env_steps_per_s} env steps/s; cannot plan a budget")
    usable_s = settings.budget_hours * 3600.0 * (1.0 - MARGIN)
    stage = settings.mode == "stage"
    warnings: list[str] = []
    halving = settings.pruner.type == "successive_halving" and settings.evaluation.every_env_steps > 0
    eta = settings.pruner.reduction_factor
    trial_steps = settings.trial_steps or settings.min_trial_steps * (eta if halving else 1)
    first_rung = min(settings.min_trial_steps, trial_steps) if halving else trial_steps
    # trials that continue the best policy start ahead of any fresh rung score: plan them all to the end
    factor = eta if halving and settings.trials_from != "best" else None
    if settings.final_steps is not None or not stage:
        final_steps = settings.final_steps or 0
    else:
        final_s = settings.final_fraction * usable_s - TRIAL_OVERHEAD_S
        final_steps = _round_steps(max(final_s, 0.0) * env_steps_per_s)
    final_h = trial_hours(final_steps, env_steps_per_s) if stage else 0.0
    search_s = usable_s - final_h * 3600.0
    if settings.hp_trials is not None:
        hp_trials = settings.hp_trials
    else:
        hp_trials = 0
        while search_seconds(hp_trials + 1, first_rung, trial_steps, factor, env_steps_per_s) <= search_s:
            hp_trials += 1
        if hp_trials < 1:
            need = trial_hours(trial_steps, env_steps_per_s) / (1.0 - MARGIN) / (1.0 - settings.final_fraction)
            raise UsageError(f"a budget of {settings.budget_hours:g} h cannot hold one trial of {trial_steps:,} env "
                             f"steps at {env_steps_per_s:,.0f} env steps/s and a final run; give "
                             f"--budget-hours {need:.2f} or more, or train a single run with `vbot train`")
    if hp_trials < MIN_TRIALS:
        warnings.append(f"only {hp_trials} trial(s) of {trial_steps:,} env steps fit the search; with so few the "
                        "sampler cannot learn which settings help: a larger --budget-hours, or a single `vbot train`")
    if hp_trials <= settings.sampler_startup_trials:
        # optuna counts the enqueued known-good trials among the TPE sampler's start-up trials
        enqueued = min(known_good, hp_trials)
        given = ("trial 0 runs the search space's known-good config" if enqueued == 1 else
                 f"trials 0-{enqueued - 1} run the search space's known-good configs")
        others = hp_trials - enqueued
        who = (f"all {hp_trials} trial(s) are the sampler's random start-up trials" if not enqueued else
               f"{given}, {'a start-up trial' if enqueued == 1 else 'all start-up trials'}" if not others else
               f"{given} and the other {others} {'is' if others == 1 else 'are'} the sampler's random start-up "
               f"trial{'s' * (others != 1)}")
        warnings.append(f"{who} (sampler_startup_trials {settings.sampler_startup_trials}): TPE never proposes one")
    if trial_steps < settings.min_trial_steps:
        warnings.append(f"trials of {trial_steps:,} env steps are shorter than the {settings.min_trial_steps:,} "
                        f"this env needs before any trial succeeds: expect tied scores")
    if stage and final_steps < trial_steps:
        warnings.append(f"the final run ({final_steps:,} env steps) is shorter than a trial ({trial_steps:,})")
    search_h = search_seconds(hp_trials, first_rung, trial_steps, factor, env_steps_per_s) / 3600.0
    return CampaignPlan(budget_hours=settings.budget_hours, env_steps_per_s=env_steps_per_s,
                        throughput_source=source, hp_trials=hp_trials, trial_steps=trial_steps,
                        first_rung_steps=first_rung,
                        final_steps=final_steps, search_hours=search_h, final_hours=final_h,
                        warnings=tuple(warnings))


def apply_plan(settings, plan: CampaignPlan):
    """``settings`` with the planned values in place of its ``auto`` fields."""
    return replace(settings, hp_trials=plan.hp_trials, trial_steps=plan.trial_steps,
                   final_reserve_hours=round(plan.final_hours, 4) if settings.mode == "stage" else 0.0,
                   final_steps=plan.final_steps if settings.mode == "stage" else settings.final_steps)


def needs_plan(settings) -> bool:
    return any(getattr(settings, name) is None for name in PLANNED)


def _round_steps(steps: float) -> int:
    """Env steps rounded down to 100k (plans read better; the trainer rounds to iterations anyway)."""
    return max(int(steps // 100_000) * 100_000, 100_000)


# -- the measured rate ------------------------------------------------------------------------------
def machine_key(env_id: str, num_envs: int, train: Mapping[str, Any] | None = None) -> str:
    """Throughput depends on the CPU, its core count, the env, the batch and the actor network
    measured (the trainer's default unless the base config ``train`` sets one): one entry each."""
    from vbot_agent.rl.config import PolicyConfig

    actor = ((train or {}).get("policy") or {}).get("actor_hidden_dims") or PolicyConfig().actor_hidden_dims
    return f"{_cpu_model()}|{os.cpu_count()} cpus|{env_id}|{num_envs} envs|actor {'-'.join(map(str, actor))}"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


CACHE_MAX_AGE_DAYS = 7.0  # a figure older than this is measured again (software and machine load change)


def training_throughput(cache_file: Path, backend, settings, *, say, recalibrate: bool = False,
                        now: float | None = None) -> tuple[float, str, float | None]:
    """Train env steps/s of ``settings``' env and env count on this machine, where it came from, and
    the 1-minute load average when it was measured (None when not recorded).

    The cached figure when there is one younger than ``CACHE_MAX_AGE_DAYS`` and ``recalibrate`` is
    False; else measured through ``backend.measure_throughput`` and cached with its date and the
    machine's load average at the time (a figure taken under load plans too few steps).
    """
    from vbot_agent.workspace.state import now_iso, parse_time

    now = time.time() if now is None else now
    key = machine_key(settings.env_id, settings.num_envs, settings.train)
    cache = load_yaml(cache_file) if cache_file.is_file() else {}
    entry = (cache or {}).get(key)
    if isinstance(entry, dict) and isinstance(entry.get("env_steps_per_s"), (int, float)) and not recalibrate:
        measured = _parse_time(entry.get("measured_at"), parse_time)
        age_days = (now - measured) / 86400.0 if measured is not None else None
        if age_days is not None and age_days <= CACHE_MAX_AGE_DAYS:
            return float(entry["env_steps_per_s"]), (
                f"measured {entry['measured_at']} ({_age(age_days)} ago{_load_note(entry)}), cached in "
                f"{cache_file}; `--recalibrate` measures again"), entry.get("load_1min")
        say(f"the cached training rate in {cache_file} is "
            + (f"{_age(age_days)} old (over {CACHE_MAX_AGE_DAYS:g} days)" if age_days is not None else "undated")
            + "; measuring again")
    measure = getattr(backend, "measure_throughput", None)
    if measure is None:
        raise UsageError("the trial backend cannot measure throughput, so --budget-hours cannot plan the "
                         "campaign; give --hp-trials, --trial-steps and --final-steps")
    load_1min = round(os.getloadavg()[0], 2)
    say(f"measuring training throughput on this machine ({settings.env_id}, {settings.num_envs} envs, "
        f"load average {load_1min:g} on {os.cpu_count()} cpus) ...")
    rate = float(measure(settings.env_id, settings.num_envs, settings.train))
    cache = dict(cache or {})
    cache[key] = {"env_steps_per_s": round(rate, 1), "measured_at": now_iso(now), "load_1min": load_1min}
    atomic_write_yaml(cache_file, cache)
    return rate, f"measured now{_load_note(cache[key])}, cached in {cache_file}", load_1min


def loaded_measurement_warning(entry_load: float | None) -> str | None:
    """A warning when the rate was measured while other work held the cores."""
    cpus = os.cpu_count() or 1
    if entry_load is None or entry_load <= 0.5 * cpus:
        return None
    return (f"the training rate was measured at load average {entry_load:g} on {cpus} cpus: other work was "
            "running, so the rate is likely low and the plan less training than the budget holds on a quiet machine; "
            "`--recalibrate` there")


def _parse_time(text, parse_iso) -> float | None:
    try:
        return parse_iso(str(text)) if text else None
    except ValueError:
        return None


def _age(days: float) -> str:
    hours = days * 24
    if hours < 1:
        return f"{max(hours * 60, 1):.0f} min"
    return f"{hours:.0f} h" if days < 2 else f"{days:.0f} days"


def _load_note(entry: dict[str, Any]) -> str:
    load = entry.get("load_1min")
    return f", load average {load:g} on {os.cpu_count()} cpus" if isinstance(load, (int, float)) else ""


def render_plan(plan: CampaignPlan, settings) -> str:
    lines = [f"plan for {plan.budget_hours:g} h at {plan.env_steps_per_s:,.0f} env steps/s ({plan.throughput_source}):",
             f"  search: {plan.hp_trials} trial{'s' * (plan.hp_trials != 1)} x {plan.trial_steps:,} env steps  ~{plan.search_hours * 60:.0f} min"
             + (f" (successive halving: each trial is ranked at {plan.first_rung_steps:,} against those before it; "
                f"the top 1/{settings.pruner.reduction_factor}, and always the first, train on: "
                f"{expected_full_trials(plan.hp_trials, settings.pruner.reduction_factor):.1f} of {plan.hp_trials} expected)"
                if plan.first_rung_steps < plan.trial_steps else "")]
    if settings.mode == "stage":
        lines.append(f"  final:  {plan.final_steps:,} env steps  ~{plan.final_hours * 60:.0f} min")
    lines.append(f"  estimate {plan.estimate_hours * 60:.0f} min of the {plan.budget_hours * 60:.0f} min budget "
                 "(the budget is enforced inside trials)")
    lines += [f"  warning: {w}" for w in plan.warnings]
    return "\n".join(lines)
