"""Per-rollout statistics for logging: mean instantaneous reward and reward terms, env metrics,
and the episodes that finished (return, length, success, fall, time to target)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vbot_agent import tensorboard_tags as tags


class EpisodeAccumulator:
    """Collects per-step info of one rollout: reward-term means, metrics, finished episodes."""

    def __init__(self) -> None:
        self.reward_sum, self.steps = 0.0, 0
        self.terms: dict[str, float] = {}
        self.metrics: dict[str, float] = {}
        self.episodes: dict[str, list[np.ndarray]] = {}

    def add(self, rewards: np.ndarray, info: dict[str, Any]) -> None:
        self.reward_sum += float(rewards.mean())
        self.steps += 1
        for k, v in info.get("reward_terms", {}).items():
            self.terms[k] = self.terms.get(k, 0.0) + float(v)
        for k, v in info.get("metrics", {}).items():
            self.metrics[k] = self.metrics.get(k, 0.0) + float(v)
        for k, v in info.get("episode", {}).items():
            v = np.asarray(v)
            if v.size:
                self.episodes.setdefault(k, []).append(v)

    def scalars(self) -> dict[str, float]:
        """TensorBoard tags (docs/design.md, "Trainer") -> values. Episode tags only when an episode finished."""
        out = {tags.INSTANT_REWARD: self.reward_sum / self.steps}
        out.update({tags.term_tag(k): v / self.steps for k, v in self.terms.items()})
        out.update({tags.METRIC_PREFIX + k: v / self.steps for k, v in self.metrics.items()})
        ep = {k: np.concatenate(v) for k, v in self.episodes.items()}
        if len(ep.get("return", ())):
            out[tags.EPISODE_RETURN] = float(ep["return"].mean())
            out[tags.EPISODE_LENGTH] = float(ep["length"].mean())
            out[tags.EPISODE_COUNT] = float(len(ep["return"]))
            if "success" in ep:  # per finished episode (docs/design.md, "Failures we design against"), not instantaneous occupancy
                out[tags.SUCCESS_RATE] = float(ep["success"].astype(np.float64).mean())
            if "fall" in ep:
                out[tags.FALL_RATE] = float(ep["fall"].astype(np.float64).mean())
            if "time_to_target_s" in ep and np.isfinite(ep["time_to_target_s"]).any():
                out[tags.TIME_TO_TARGET] = float(np.nanmean(ep["time_to_target_s"]))
        return out
