"""One training run as the reward diagnosis reads it: the resolved config and the logged series.

``experiment_meta.json`` holds the resolved config (reward scales included); the TensorBoard event
files hold the scalar series. Tags as the trainer logs them: ``Reward / Total reward (mean)``
(episode return), ``Episode / Total timesteps (mean)``, ``Reward Instant / <term> (mean)`` (the
term's scaled contribution per step), ``metrics / distance_to_target``, ``metrics / success_rate``,
``metrics / fall_rate`` (per finished episode), ``Policy / std (mean)``, ``Loss / entropy``.
A rollout of the checkpoint can add measured success, fall rate and final distance, which then
take precedence over the training series' last values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vbot_agent import tensorboard_tags as tags
from vbot_agent.errors import UsageError

META_FILE = "experiment_meta.json"
TAG_RETURN = tags.EPISODE_RETURN
TAG_LENGTH = tags.EPISODE_LENGTH
TAG_DISTANCE = tags.DISTANCE_TO_TARGET
TAG_SUCCESS = tags.SUCCESS_RATE
TAG_FALL = tags.FALL_RATE
TAG_STD = tags.POLICY_STD
TAG_ENTROPY = tags.LOSS_ENTROPY
TERM_TAG = tags.TERM_PREFIX + "{}" + tags.TERM_SUFFIX
FALLBACKS = {TAG_SUCCESS: tags.eval_tag("success_rate"), TAG_FALL: tags.eval_tag("fall_rate"),
             TAG_DISTANCE: tags.eval_tag("mean_final_distance")}

TAIL = 0.1  # the "last" value of a series: mean of its final 10% of points (noise-robust)


@dataclass(frozen=True)
class Series:
    steps: np.ndarray  # env steps
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    @property
    def first(self) -> float:
        k = max(1, int(len(self.values) * TAIL))
        return float(np.mean(self.values[:k]))

    @property
    def last(self) -> float:
        k = max(1, int(len(self.values) * TAIL))
        return float(np.mean(self.values[-k:]))

    @property
    def peak(self) -> float:
        return float(np.max(self.values))


@dataclass
class RunData:
    """What the rules read: the resolved config and the scalar series of one run."""

    run_dir: Path
    meta: dict[str, Any]
    scalars: dict[str, Series]
    rollout: dict[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        return self.meta.get("config", {})

    @property
    def env_id(self) -> str:
        return str(self.meta.get("env_id") or self.config.get("env_id") or "vbot_navigation_section001")

    @property
    def scales(self) -> dict[str, float]:
        return dict((self.config.get("reward") or {}).get("scales") or {})

    @property
    def max_episode_steps(self) -> float:
        steps = (self.meta.get("env") or {}).get("max_episode_steps")
        if steps:
            return float(steps)
        return float((self.config.get("env") or {}).get("episode_length_s", 20.0)) / 0.01

    @property
    def env_steps(self) -> int:
        """The furthest env step any series reached."""
        return max((int(s.steps[-1]) for s in self.scalars.values() if len(s)), default=0)

    def series(self, tag: str) -> Series | None:
        found = self.scalars.get(tag) or self.scalars.get(FALLBACKS.get(tag, ""))
        return found if found is not None and len(found) else None

    def term(self, name: str) -> Series | None:
        return self.series(TERM_TAG.format(name))

    def last(self, tag: str, rollout_key: str | None = None) -> float | None:
        """The final value of a metric: the rollout's when there is one, else the series' tail."""
        if rollout_key and self.rollout and self.rollout.get(rollout_key) is not None:
            return float(self.rollout[rollout_key])
        s = self.series(tag)
        return s.last if s is not None else None


# ----------------------------------------------------------------------------------- reading


def resolve_run(run: str, runs_roots: list[Path]) -> Path:
    """``latest`` (the newest run folder with TensorBoard events under any of ``runs_roots``) or a path."""
    if run != "latest":
        path = Path(run).expanduser()
        candidates = [path] if path.is_absolute() else [Path.cwd() / path] + [r.parent / path for r in runs_roots]
        for candidate in candidates:
            if candidate.is_dir():
                return candidate.resolve()
        raise UsageError(f"run {run!r} not found (give a run folder such as runs/<env>/<time>_PPO, or 'latest')")
    found = [p for root in runs_roots if root.is_dir() for p in root.glob("*/*_PPO")
             if any(p.glob("events.out.tfevents.*"))]
    if not found:
        where = ", ".join(str(r) for r in runs_roots)
        raise UsageError(f"no run with TensorBoard data under {where}; train one with `vbot train` or give RUN")
    return max(found, key=lambda p: max(f.stat().st_mtime for f in p.glob("events.out.tfevents.*")))


def load_run(run_dir: Path) -> RunData:
    """Read ``experiment_meta.json`` and every scalar series of ``run_dir``.

    UsageError when the folder has no meta file or no TensorBoard scalars (saying which).
    """
    run_dir = Path(run_dir)
    meta_path = run_dir / META_FILE
    if not meta_path.is_file():
        raise UsageError(f"{run_dir} is not a training run: no {META_FILE} in it")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise UsageError(f"{meta_path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not any(run_dir.glob("events.out.tfevents.*")):
        raise UsageError(f"{run_dir} has no TensorBoard data (no events.out.tfevents.* file); "
                         "the run may have died before its first log")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    scalars: dict[str, Series] = {}
    for tag in acc.Tags().get("scalars", []):
        events = acc.Scalars(tag)
        scalars[tag] = Series(np.array([e.step for e in events], dtype=np.int64),
                              np.array([e.value for e in events], dtype=np.float64))
    if not scalars:
        raise UsageError(f"{run_dir} has TensorBoard files but no scalars in them yet; wait for the first log")
    return RunData(run_dir=run_dir, meta=meta, scalars=scalars)
