"""Empirical observation normalisation, saved with the model (rsl_rl's ``EmpiricalNormalization``).

Running mean and variance over every observation seen in training (parallel-variance formula,
Chan et al. 1979); ``y = clip((x - mean) / sqrt(var + eps), -clip, clip)``.
"""

from __future__ import annotations

import torch
from torch import nn


class EmpiricalNormalizer(nn.Module):
    """Normalise ``[B, O]`` observations; statistics are buffers so they live in the state dict."""

    def __init__(self, obs_dim: int, *, clip: float = 5.0, eps: float = 1e-8, enabled: bool = True) -> None:
        super().__init__()
        self.clip, self.eps, self.enabled = clip, eps, enabled
        self.register_buffer("mean", torch.zeros(obs_dim))
        self.register_buffer("var", torch.ones(obs_dim))
        self.register_buffer("count", torch.zeros((), dtype=torch.float64))
        self.frozen = False  # warm start with --freeze-normalizer: statistics stay as loaded

    @torch.no_grad()
    def update(self, obs: torch.Tensor) -> None:
        """Fold a batch ``[B, O]`` into the running statistics (no-op when disabled or frozen)."""
        if not self.enabled or self.frozen or obs.shape[0] == 0:
            return
        batch_mean = obs.mean(0)
        batch_var = obs.var(0, unbiased=False)
        n_a, n_b = self.count.item(), float(obs.shape[0])
        total = n_a + n_b
        delta = batch_mean - self.mean
        self.mean += delta * (n_b / total)
        m2 = self.var * n_a + batch_var * n_b + delta.pow(2) * (n_a * n_b / total)
        self.var.copy_(m2 / total)
        self.count += n_b

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs [B, O] -> normalised obs [B, O] (identity when disabled)."""
        if not self.enabled:
            return obs
        return torch.clamp((obs - self.mean) / torch.sqrt(self.var + self.eps), -self.clip, self.clip)
