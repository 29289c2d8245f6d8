"""Rollout buffer and GAE.

Shapes: T = ``num_steps_per_env``, N = ``num_envs``, O = obs_dim, A = action_dim. A batch is the
T*N transitions of one iteration, split into ``num_mini_batches`` random minibatches per epoch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch


def compute_gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, last_values: torch.Tensor,
                gamma: float, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation (Schulman et al. 2016, eq. 11-16).

    rewards, values, dones: [T, N] (``dones[t]`` = the episode ended at step t; truncated episodes
    have already had ``gamma * V(final_obs)`` added to their last reward). last_values: [N] = V(s_T).
    Returns (advantages [T, N], returns [T, N]) with ``returns = advantages + values``:
        delta_t = r_t + gamma * V_{t+1} * (1 - d_t) - V_t
        A_t     = delta_t + gamma * lam * (1 - d_t) * A_{t+1}
    """
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    next_advantage = torch.zeros_like(last_values)
    next_values = last_values
    for t in reversed(range(num_steps)):
        not_done = 1.0 - dones[t].float()
        delta = rewards[t] + gamma * next_values * not_done - values[t]
        next_advantage = delta + gamma * lam * not_done * next_advantage
        advantages[t] = next_advantage
        next_values = values[t]
    return advantages, advantages + values


@dataclass
class MiniBatch:
    """Flat minibatch of M transitions: obs [M, O], actions [M, A], others [M] (mu, sigma [M, A])."""

    obs: torch.Tensor
    actions: torch.Tensor
    old_log_probs: torch.Tensor
    old_values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    old_mu: torch.Tensor
    old_sigma: torch.Tensor


class RolloutStorage:
    """Fixed-size on-policy buffer, filled step by step and emptied after each update."""

    def __init__(self, num_steps: int, num_envs: int, obs_dim: int, action_dim: int, device: torch.device) -> None:
        self.num_steps, self.num_envs = num_steps, num_envs

        def zeros(*shape: int) -> torch.Tensor:
            return torch.zeros(num_steps, num_envs, *shape, device=device)

        self.obs = zeros(obs_dim)
        self.actions = zeros(action_dim)
        self.mu = zeros(action_dim)
        self.sigma = zeros(action_dim)
        self.log_probs = zeros()
        self.values = zeros()
        self.rewards = zeros()
        self.dones = zeros()
        self.advantages = zeros()
        self.returns = zeros()
        self.step = 0

    def add(self, obs, actions, log_probs, values, mu, sigma, rewards, dones) -> None:
        """Store one step of N transitions (shapes as the buffers without the leading T)."""
        if self.step >= self.num_steps:
            raise RuntimeError("rollout storage is full; call clear() after update()")
        t = self.step
        self.obs[t].copy_(obs)
        self.actions[t].copy_(actions)
        self.log_probs[t].copy_(log_probs)
        self.values[t].copy_(values)
        self.mu[t].copy_(mu)
        self.sigma[t].copy_(sigma)
        self.rewards[t].copy_(rewards)
        self.dones[t].copy_(dones)
        self.step += 1

    def clear(self) -> None:
        self.step = 0

    def compute_returns(self, last_values: torch.Tensor, gamma: float, lam: float, normalize_advantages: bool) -> None:
        """Fill ``advantages`` and ``returns``; advantages are normalised over the whole batch."""
        self.advantages, self.returns = compute_gae(self.rewards, self.values, self.dones, last_values, gamma, lam)
        if normalize_advantages:
            self.advantages = (self.advantages - self.advantages.mean()) / (self.advantages.std() + 1e-8)

    def mini_batches(self, num_mini_batches: int, num_epochs: int,
                     generator: torch.Generator | None = None) -> Iterator[MiniBatch]:
        """Yield ``num_epochs * num_mini_batches`` minibatches of a fresh random permutation per epoch."""
        batch_size = self.num_steps * self.num_envs
        mb_size = batch_size // num_mini_batches
        if mb_size == 0:
            raise ValueError(f"num_mini_batches={num_mini_batches} exceeds the batch of {batch_size} transitions")
        flat = {
            "obs": self.obs.flatten(0, 1), "actions": self.actions.flatten(0, 1),
            "old_log_probs": self.log_probs.flatten(), "old_values": self.values.flatten(),
            "advantages": self.advantages.flatten(), "returns": self.returns.flatten(),
            "old_mu": self.mu.flatten(0, 1), "old_sigma": self.sigma.flatten(0, 1),
        }
        for _ in range(num_epochs):
            # Drawn on the generator's device (a CUDA generator cannot draw a CPU permutation).
            device = generator.device if generator is not None else self.obs.device
            perm = torch.randperm(batch_size, generator=generator, device=device).to(self.obs.device)
            for i in range(num_mini_batches):
                mb_inds = perm[i * mb_size:(i + 1) * mb_size]
                # index_select, not v[mb_inds]: several times faster for row gathers on CPU
                yield MiniBatch(**{k: v.index_select(0, mb_inds) for k, v in flat.items()})
