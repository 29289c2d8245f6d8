"""Per-rollout statistics for logging: mean instantaneous reward and reward terms, env metrics,
and the episodes that finished (return, length, success, fall, time to target)."""

from __future__ import annotations

from typing import Any

import numpy as np


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
        """TensorBoard tags -> values. Episode tags only when an episode finished."""
        out = {"Reward / Instantaneous reward (mean)": self.reward_sum / self.steps}
        out.update({f"Reward Instant / {k} (mean)": v / self.steps for k, v in self.terms.items()})
        out.update({f"metrics / {k}": v / self.steps for k, v in self.metrics.items()})
        ep = {k: np.concatenate(v) for k, v in self.episodes.items()}
        if len(ep.get("return", ())):
            out["Reward / Total reward (mean)"] = float(ep["return"].mean())
            out["Episode / Total timesteps (mean)"] = float(ep["length"].mean())
            out["Episode / count"] = float(len(ep["return"]))
            if "success" in ep:  # per finished episode, not instantaneous occupancy
                out["metrics / success_rate"] = float(ep["success"].astype(np.float64).mean())
            if "fall" in ep:
                out["metrics / fall_rate"] = float(ep["fall"].astype(np.float64).mean())
            if "time_to_target_s" in ep and np.isfinite(ep["time_to_target_s"]).any():
                out["metrics / time_to_target_s"] = float(np.nanmean(ep["time_to_target_s"]))
        return out
