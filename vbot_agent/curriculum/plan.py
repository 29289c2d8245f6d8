"""Curriculum plans (docs/design.md, "Campaigns"): the typed plan YAML and the promotion rule.

A plan is an ordered list of stages. Each stage trains one env id with its own env options (e.g.
``env.spawn.target_distance``) for at most ``steps`` env steps, warm-started from the previous
stage's best checkpoint, and is *promoted* when its measured evaluations meet ``promote``.
The format is documented in ``starter_kit_schedule/templates/curriculum_plan_template.yaml``.

Promotion rule (:func:`check_promotion`), over the stage's evaluations in env-step order. Each
evaluation is a real set of deterministic evaluation episodes of one checkpoint; ``success_rate``
is per finished episode (docs/design.md, "Failures we design against"). Only evaluations at ``env_steps >= min_env_steps`` count.
An evaluation *passes* when ``success_rate >= promote.success_rate`` (and, if given,
``fall_rate <= promote.max_fall_rate`` and ``competition_points >= promote.min_points``, the
competition's points per robot: on a course, the section's points). The stage is promotable as
soon as ``patience`` counted evaluations in a row pass. It is *stuck* when its step budget is used up without that, or
earlier when ``stuck_after`` counted evaluations in a row fail (None: only the budget ends it).
A stuck stage stops the curriculum, unless it says ``on_stuck: advance``: then the next stage
starts from its best checkpoint and the stage stays recorded as stuck (a plan run under a wall
budget, where the later stages are what is scored).

Nothing here imports torch or mujoco; env options are checked through the trial backend's
``check_overrides`` (the real trainer's config), which loads the env schema when called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from vbot_agent.config import flatten, from_mapping, load_yaml, to_dict
from vbot_agent.errors import UsageError
from vbot_agent.trials.backend import DEFAULT_BACKEND
from vbot_agent.trials.trial_settings import EvaluationSettings, TimeoutSettings

PREVIOUS, NONE = "previous", "none"  # warm_start.checkpoint words; anything else is a path
ON_STUCK = ("stop", "advance")
STAGE_REQUIRED = ("name", "env_id", "steps", "promote")


@dataclass(frozen=True)
class Promotion:
    """When a stage is done (see the module docstring for the exact rule)."""

    success_rate: float  # per-episode success rate of an evaluation, >= this passes
    min_env_steps: int = 0  # evaluations before this many env steps of the stage do not count
    patience: int = 1  # passing evaluations in a row needed to promote
    max_fall_rate: float | None = None  # optional: an evaluation also needs fall_rate <= this
    stuck_after: int | None = None  # optional: this many failing counted evaluations in a row = stuck
    min_points: float | None = None  # optional: an evaluation also needs this many competition points per robot

    def __post_init__(self) -> None:
        if not 0.0 <= self.success_rate <= 1.0:
            raise ValueError(f"success_rate must be in [0, 1], got {self.success_rate}")
        if self.min_env_steps < 0:
            raise ValueError("min_env_steps must be >= 0")
        if self.patience < 1:
            raise ValueError("patience must be >= 1 (evaluations in a row)")
        if self.max_fall_rate is not None and not 0.0 <= self.max_fall_rate <= 1.0:
            raise ValueError("max_fall_rate must be in [0, 1]")
        if self.stuck_after is not None and self.stuck_after < 1:
            raise ValueError("stuck_after must be >= 1 or null")
        if self.min_points is not None and self.min_points < 0:
            raise ValueError("min_points must be >= 0 or null")


@dataclass(frozen=True)
class StageWarmStart:
    """How a stage starts: ``checkpoint`` is ``previous`` (the previous stage's best checkpoint,
    the default after the first stage), ``none`` (fresh weights) or a checkpoint path. The options
    are those of ``vbot train --checkpoint``; ``lr_multiplier`` scales the stage's configured
    learning rate (it does not compound across stages)."""

    checkpoint: str | None = None  # None: previous for later stages, none for the first
    lr_multiplier: float = 1.0
    reset_optimizer: bool = False
    freeze_normalizer: bool = False

    def __post_init__(self) -> None:
        if self.lr_multiplier <= 0:
            raise ValueError(f"lr_multiplier must be > 0, got {self.lr_multiplier}")


@dataclass(frozen=True)
class Stage:
    name: str
    env_id: str
    steps: int  # env steps at most (the stage's budget, total over resumes)
    promote: Promotion
    env: dict[str, Any] = field(default_factory=dict)  # env options (NavConfig), e.g. spawn.target_distance
    overrides: dict[str, Any] = field(default_factory=dict)  # other dotted trainer keys, e.g. ppo.entropy_coef
    warm_start: StageWarmStart = field(default_factory=StageWarmStart)
    num_envs: int | None = None  # None: the plan's
    # this stage's evaluation settings over the plan's (e.g. {episodes: 128} where the bar needs finer steps)
    evaluation: dict[str, Any] = field(default_factory=dict)
    # stuck (budget used without promotion): ``stop`` the curriculum there, or ``advance`` to the
    # next stage from this stage's best checkpoint (recorded as stuck, never as promoted)
    on_stuck: str = "stop"

    def __post_init__(self) -> None:
        if self.steps <= 0:
            raise ValueError(f"steps must be > 0, got {self.steps}")
        if self.on_stuck not in ON_STUCK:
            raise ValueError(f"on_stuck must be one of {', '.join(ON_STUCK)}, got {self.on_stuck!r}")
        if self.promote.min_env_steps > self.steps:
            raise ValueError(f"promote.min_env_steps {self.promote.min_env_steps} is above the stage's steps {self.steps}")
        if self.num_envs is not None and self.num_envs <= 0:
            raise ValueError("num_envs must be > 0")

    def values(self) -> dict[str, Any]:
        """The stage's dotted trainer keys (``--set``): ``env.<option>`` then ``overrides``."""
        values = {f"env.{k}": v for k, v in flatten(self.env).items()}
        for key, value in self.overrides.items():
            if key in values:
                raise ValueError(f"overrides.{key} repeats env.{key[4:]}; give it once")
            values[key] = value
        return values

    def warm_source(self, index: int) -> str:
        """``previous``, ``none`` or a path, with the default resolved for stage ``index``."""
        if self.warm_start.checkpoint is None:
            return NONE if index == 0 else PREVIOUS
        return self.warm_start.checkpoint


@dataclass(frozen=True)
class Plan:
    """A curriculum plan (the YAML file, parsed once)."""

    name: str
    stages: tuple[Stage, ...]
    description: str = ""
    num_envs: int = 256
    seed: int = 0
    train: dict[str, Any] = field(default_factory=dict)  # base trainer config (as `vbot train --config`)
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    timeouts: TimeoutSettings = field(default_factory=TimeoutSettings)
    backend: str = DEFAULT_BACKEND  # trial backend (tests use a fake one)

    def stage_names(self) -> list[str]:
        return [s.name for s in self.stages]

    def evaluation_of(self, stage: Stage) -> EvaluationSettings:
        """The plan's evaluation settings with the stage's own over them."""
        if not stage.evaluation:
            return self.evaluation
        return from_mapping(EvaluationSettings, {**to_dict(self.evaluation), **stage.evaluation})


def load_plan(path: str | os.PathLike, *, check_keys: bool = True) -> Plan:
    """Read and validate the plan at ``path``. UsageError naming the file and stage on any problem."""
    path = Path(path)
    return parse_plan(load_yaml(path), str(path), default_name=path.stem, check_keys=check_keys)


def parse_plan(data: Mapping[str, Any], where: str, *, default_name: str = "curriculum",
               check_keys: bool = True) -> Plan:
    """Build a Plan from a mapping (a YAML file or the copy stored in the state).

    ``where`` names the source in errors. With ``check_keys`` every stage's env options and
    overrides are resolved through the backend's trainer config (unknown keys refused).
    """
    data = dict(data)
    raw_stages = data.pop("stages", None)
    if not isinstance(raw_stages, list) or not raw_stages:
        raise UsageError(f"{where}: stages: is required, a list of at least one stage (see "
                         "starter_kit_schedule/templates/curriculum_plan_template.yaml)")
    stages = tuple(_parse_stage(raw, i, where) for i, raw in enumerate(raw_stages))
    data.setdefault("name", default_name)
    try:
        plan = from_mapping(Plan, {**data, "stages": ()})
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None
    plan = replace(plan, stages=stages)
    _check_plan(plan, where, check_keys)
    return plan


def _parse_stage(raw: Any, index: int, where: str) -> Stage:
    label = f"stage {index + 1}"
    if not isinstance(raw, Mapping):
        raise UsageError(f"{where}: {label}: expected a mapping with {', '.join(STAGE_REQUIRED)}, got {raw!r}")
    if isinstance(raw.get("name"), str):
        label += f" {raw['name']!r}"
    missing = [k for k in STAGE_REQUIRED if k not in raw]
    if isinstance(raw.get("promote"), Mapping) and "success_rate" not in raw["promote"]:
        missing.append("promote.success_rate")
    if missing:
        raise UsageError(f"{where}: {label}: missing required field{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} (a stage needs {', '.join(STAGE_REQUIRED)} and promote.success_rate)")
    try:
        stage = from_mapping(Stage, raw)
        stage.values()
    except UsageError as exc:
        raise UsageError(f"{where}: {label}: {exc}") from None
    except ValueError as exc:
        raise UsageError(f"{where}: {label}: {exc}") from None
    return stage


def _check_plan(plan: Plan, where: str, check_keys: bool) -> None:
    from vbot_agent.rl.envs import check_env_id
    from vbot_agent.trials.backend import load_backend

    names = plan.stage_names()
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UsageError(f"{where}: stage names must be unique; repeated: {', '.join(duplicates)}")
    backend = load_backend(plan.backend) if check_keys else None
    for i, stage in enumerate(plan.stages):
        label = f"{where}: stage {i + 1} {stage.name!r}"
        try:
            check_env_id(stage.env_id)
        except UsageError as exc:
            raise UsageError(f"{label}: env_id: {exc}") from None
        unknown = sorted(set(stage.evaluation) - {f.name for f in fields(EvaluationSettings)})
        if unknown:
            raise UsageError(f"{label}: evaluation.{unknown[0]} is not an evaluation setting "
                             f"({', '.join(f.name for f in fields(EvaluationSettings))})")
        try:
            every = plan.evaluation_of(stage).every_env_steps
        except (UsageError, ValueError) as exc:
            raise UsageError(f"{label}: evaluation: {str(exc).removeprefix('EvaluationSettings: ')}") from None
        if every:
            # evaluations at k * every (k >= 1) inside [min_env_steps, steps), and one at the end of the budget
            first = max(1, -(-stage.promote.min_env_steps // every))
            chances = max(0, -(-stage.steps // every) - first) + 1
            if chances < stage.promote.patience:
                raise UsageError(f"{label}: promote.patience {stage.promote.patience} can never be met: only {chances} "
                                 f"evaluation(s) fall between min_env_steps {stage.promote.min_env_steps:,} and steps "
                                 f"{stage.steps:,} at evaluation.every_env_steps {every:,}")
        if i == 0 and stage.warm_source(0) == PREVIOUS:
            raise UsageError(f"{label}: warm_start.checkpoint: previous has no previous stage; use none or a path")
        if backend is not None:
            try:
                backend.check_overrides(stage.env_id, plan.train, [stage.values()])
            except UsageError as exc:
                raise UsageError(f"{label}: {exc}") from None


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """Plain types, for the state file (``parse_plan(plan_to_dict(p))`` gives ``p`` back)."""
    return to_dict(plan)


# -- the promotion rule -------------------------------------------------------------------------
@dataclass(frozen=True)
class PromotionCheck:
    """The measured evaluations judged against ``Promotion``.

    ``met``: promotable. ``stuck``: ``stuck_after`` failing evaluations in a row were seen (the
    budget is judged by the caller). ``failing``: one line per criterion that does not hold.
    ``at``: index of the evaluation where promotion first held.
    """

    met: bool
    stuck: bool
    failing: tuple[str, ...]
    streak: int  # passing counted evaluations in a row at the end of the list
    counted: int  # evaluations at or after min_env_steps
    at: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"met": self.met, "stuck": self.stuck, "failing": list(self.failing), "streak": self.streak,
                "counted": self.counted, "promoted_at_evaluation": self.at}


def passes(promote: Promotion, evaluation: Mapping[str, Any]) -> bool:
    """One evaluation meets the thresholds (success rate, and fall rate when given)."""
    success = evaluation.get("success_rate")
    if not isinstance(success, (int, float)) or success != success or success < promote.success_rate:
        return False
    if promote.max_fall_rate is not None:
        fall = evaluation.get("fall_rate")
        if not isinstance(fall, (int, float)) or fall != fall or fall > promote.max_fall_rate:
            return False
    if promote.min_points is not None:
        points = evaluation.get("competition_points")
        if not isinstance(points, (int, float)) or points != points or points < promote.min_points:
            return False
    return True


def check_promotion(promote: Promotion, evaluations: Sequence[Mapping[str, Any]]) -> PromotionCheck:
    """Judge ``evaluations`` (each ``{env_steps, success_rate, fall_rate, ...}``) against ``promote``."""
    ordered = sorted(evaluations, key=lambda e: e.get("env_steps") or 0)
    counted = [e for e in ordered if (e.get("env_steps") or 0) >= promote.min_env_steps]
    streak = best_streak = fails = 0
    met_at: int | None = None
    stuck = False
    for i, evaluation in enumerate(counted):
        if passes(promote, evaluation):
            streak, fails = streak + 1, 0
            best_streak = max(best_streak, streak)
            if streak >= promote.patience and met_at is None:
                met_at = i
        else:
            streak, fails = 0, fails + 1
            if promote.stuck_after is not None and fails >= promote.stuck_after and met_at is None:
                stuck = True
    failing: list[str] = []
    if met_at is None:
        last_steps = ordered[-1].get("env_steps") or 0 if ordered else 0
        bar = (f"needs success_rate >= {promote.success_rate:g} in {promote.patience} evaluation"
               f"{'' if promote.patience == 1 else 's'} in a row at >= {promote.min_env_steps:,} env steps")
        if not ordered:
            failing.append(f"success_rate: not measured yet, no evaluation so far ({bar})")
        elif not counted:
            failing.append(f"min_env_steps: the last evaluation is at {last_steps:,} env steps, "
                           f"< {promote.min_env_steps:,} ({bar})")
        if counted:
            last = counted[-1]
            if not passes(Promotion(success_rate=promote.success_rate), last):
                # ties to the later evaluation, as the stage's best checkpoint is kept (session.add_evaluation)
                best = max(counted, key=lambda e: (_num(e.get("success_rate")), e.get("env_steps") or 0))
                # an earlier, uncounted evaluation may have scored higher (the stage's best checkpoint)
                since = f" from {promote.min_env_steps:,} env steps on:" if len(counted) < len(ordered) else ""
                failing.append(f"success_rate: {_fmt(last.get('success_rate'))} at {last.get('env_steps') or 0:,} "
                               f"env steps < {promote.success_rate:g} (best{since} {_fmt(best.get('success_rate'))} "
                               f"at {best.get('env_steps') or 0:,})")
            elif promote.max_fall_rate is not None and not passes(replace(promote, min_points=None), last):
                failing.append(f"max_fall_rate: fall_rate {_fmt(last.get('fall_rate'))} > {promote.max_fall_rate:g}")
            elif promote.min_points is not None and not passes(promote, last):
                failing.append(f"min_points: {_fmt(last.get('competition_points'))} competition points per robot at "
                               f"{last.get('env_steps') or 0:,} env steps < {promote.min_points:g}")
            if not failing or best_streak:
                failing.append(f"patience: the thresholds held for {best_streak} evaluation"
                               f"{'' if best_streak == 1 else 's'} in a row, {promote.patience} needed")
    return PromotionCheck(met=met_at is not None, stuck=stuck, failing=tuple(failing), streak=streak,
                          counted=len(counted), at=met_at)


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and value == value else -1.0


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) and value == value else "unmeasured"
