"""Actor-critic networks: Gaussian policy with a state-independent log-std (rsl_rl's ``ActorCritic``).

Shapes: B = batch (envs or a minibatch), O = obs_dim, A = action_dim.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

# In place where torch allows it: one tensor fewer per layer, and ELU's backward then works from its
# output (y + 1 below zero) instead of recomputing exp(x).
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "elu": lambda: nn.ELU(inplace=True), "relu": lambda: nn.ReLU(inplace=True), "tanh": nn.Tanh,
}
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int, activation: str) -> nn.Sequential:
    """Linear -> act -> ... -> Linear. Orthogonal init (gain sqrt 2), as in CleanRL's ``layer_init``."""
    layers: list[nn.Module] = []
    dims = [in_dim, *hidden]
    for d_in, d_out in itertools.pairwise(dims):
        layers += [_init(nn.Linear(d_in, d_out), math.sqrt(2)), ACTIVATIONS[activation]()]
    layers.append(nn.Linear(dims[-1], out_dim))
    return nn.Sequential(*layers)


def _init(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs; action ~ Normal(actor(obs), exp(log_std)).

    The log-std is a learned parameter per action dimension (state independent). Observations are
    expected already normalised (see ``EmpiricalNormalizer``).

    ``precision="bf16"`` runs the hidden layers (their matmuls and activations) in bfloat16 under
    autocast; the output layers, the parameters, the optimiser and the losses stay fp32. Rollout
    and update both go through it, so the PPO ratio starts at exactly 1: a row's bf16 result does
    not depend on the batch it is computed in.
    """

    def __init__(self, obs_dim: int, action_dim: int, actor_hidden_dims: Sequence[int],
                 critic_hidden_dims: Sequence[int], activation: str = "elu", init_noise_std: float = 1.0,
                 precision: str = "fp32", max_noise_std: float | None = None) -> None:
        super().__init__()
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"precision must be fp32 or bf16 (resolve 'auto' first), got {precision!r}")
        self.obs_dim, self.action_dim, self.precision = obs_dim, action_dim, precision
        self.actor = mlp(obs_dim, actor_hidden_dims, action_dim, activation)
        self.critic = mlp(obs_dim, critic_hidden_dims, 1, activation)
        # Small last actor layer (CleanRL: std 0.01) so initial actions are ~ the default pose.
        _init(self.actor[-1], 0.01)
        _init(self.critic[-1], 1.0)
        self.log_std = nn.Parameter(torch.full((action_dim,), math.log(init_noise_std)))
        self.max_log_std = None if max_noise_std is None else math.log(max_noise_std)
        self.bound_noise()

    def bound_noise(self) -> None:
        """Project the log-std back under ``max_noise_std`` (after each optimiser step and each load).

        Actions are clipped to [-1, 1] by the env, so noise beyond that range changes nothing the
        surrogate can see, while the entropy bonus keeps paying for it: unbounded, the std drifts
        upward on hard tasks (2 -> 15 over a chain of warm starts) until every sampled action is +-1.
        """
        if self.max_log_std is not None:
            with torch.no_grad():
                self.log_std.clamp_(max=self.max_log_std)

    def set_max_noise_std(self, max_noise_std: float | None) -> None:
        """Move the bound (a schedule's next value) and apply it."""
        self.max_log_std = None if max_noise_std is None else math.log(max_noise_std)
        self.bound_noise()

    def act(self, obs: torch.Tensor, generator: torch.Generator | None = None):
        """Sample actions. obs [B, O] -> (actions [B, A], log_prob [B], mean [B, A], std [B, A]).

        Sampling draws from ``generator`` (the runner's, so a resumed run draws the same noise).
        """
        mean = self._forward(self.actor, obs)
        std = self.log_std.exp().expand_as(mean)
        noise = torch.randn(mean.shape, generator=generator, device=obs.device, dtype=obs.dtype)
        actions = mean + std * noise
        return actions, self._log_prob(actions, mean), mean, std

    def act_inference(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic action (the mean). obs [B, O] -> [B, A]."""
        return self._forward(self.actor, obs)

    def evaluate(self, obs: torch.Tensor, actions: torch.Tensor):
        """(log_prob [B], entropy [B], value [B], mean [B, A], std [B, A]) of ``actions`` under the policy."""
        mean = self._forward(self.actor, obs)
        log_prob = self._log_prob(actions, mean)
        # The std does not depend on the state, so neither does the entropy: one number for all rows.
        entropy = (0.5 + _LOG_SQRT_2PI + self.log_std).sum().expand(obs.shape[0])
        value = self._forward(self.critic, obs).squeeze(-1)
        return log_prob, entropy, value, mean, self.log_std.exp().expand_as(mean)

    def _log_prob(self, actions: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
        """Diagonal Gaussian log-density summed over actions [B]. One formula for rollout and update,
        so both round alike and the first minibatch's ratio is exactly 1."""
        z = (actions - mean) * torch.exp(-self.log_std)
        return -0.5 * z.pow(2).sum(-1) - (self.log_std.sum() + self.action_dim * _LOG_SQRT_2PI)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """obs [B, O] -> V(obs) [B]."""
        return self._forward(self.critic, obs).squeeze(-1)

    def _forward(self, net: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
        *hidden, head = net
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            for layer in hidden:
                x = layer(x)
        return _apply_head(head, x.float() if self.precision == "bf16" else x)


def _apply_head(head: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """``head(x)``, with a one-output head (the critic's) as a row-wise dot product: oneDNN picks its
    one-column GEMM kernel by row count (seen on AMX CPUs), so a row's value would depend on the batch
    it is computed in, and rollout and update values would differ in the last bits."""
    if head.out_features == 1:
        return (x * head.weight[0]).sum(-1, keepdim=True) + head.bias
    return head(x)
