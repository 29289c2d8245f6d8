"""PPO, the algorithm only (Schulman et al. 2017; rsl_rl's ``PPO``): act, process_step, update.

It never logs and never touches the env: the runner feeds it normalised observations and env
outputs as tensors and logs the dict ``update()`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vbot_agent.rl.config import PPOConfig
from vbot_agent.rl.networks import ActorCritic
from vbot_agent.rl.optim import Adam
from vbot_agent.rl.storage import RolloutStorage


@dataclass
class Losses:
    surrogate: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor
    clip_fraction: torch.Tensor


def ppo_losses(log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor,
               values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, entropy: torch.Tensor,
               clip_param: float, use_clipped_value_loss: bool) -> Losses:
    """The PPO loss terms on a minibatch (all inputs [M]).

    surrogate = mean(max(-A * r, -A * clip(r, 1-eps, 1+eps))), r = exp(logp - logp_old)  (PPO eq. 7)
    value     = mean(max((V - R)^2, (V_old + clip(V - V_old, -eps, eps) - R)^2))         (clipped, as in
                OpenAI baselines ppo2 / rsl_rl), or mean((V - R)^2) unclipped
    entropy   = mean(entropy)
    """
    ratio = torch.exp(log_probs - old_log_probs)
    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1.0 - clip_param, 1.0 + clip_param)
    surrogate = torch.max(pg_loss1, pg_loss2).mean()
    if use_clipped_value_loss:
        v_clipped = old_values + torch.clamp(values - old_values, -clip_param, clip_param)
        value_loss = torch.max((values - returns).pow(2), (v_clipped - returns).pow(2)).mean()
    else:
        value_loss = (values - returns).pow(2).mean()
    clip_fraction = ((ratio - 1.0).abs() > clip_param).float().mean()
    return Losses(surrogate, value_loss, entropy.mean(), clip_fraction)


def gaussian_kl(old_mu: torch.Tensor, old_sigma: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of KL(old || new) between diagonal Gaussians ([M, A] inputs -> scalar)."""
    kl = torch.log(sigma / old_sigma) + (old_sigma.pow(2) + (old_mu - mu).pow(2)) / (2.0 * sigma.pow(2)) - 0.5
    return kl.sum(-1).mean()


class PPO:
    """Owns the actor-critic, its optimiser, the rollout storage and the learning-rate schedule."""

    def __init__(self, actor_critic: ActorCritic, cfg: PPOConfig, num_envs: int, device: torch.device,
                 generator: torch.Generator) -> None:
        self.actor_critic = actor_critic.to(device)
        self.cfg = cfg
        self.device = device
        self.generator = generator  # action noise and minibatch order: part of the resumable state
        self.learning_rate = cfg.learning_rate
        # torch's fused Adam kernel (one kernel for all parameters, CPU and CUDA), without the
        # torch._dynamo import that torch.optim.Adam costs at start-up.
        self.optimizer = Adam(self.actor_critic.parameters(), lr=self.learning_rate)
        self.storage = RolloutStorage(cfg.num_steps_per_env, num_envs, actor_critic.obs_dim,
                                      actor_critic.action_dim, device)
        self._pending: tuple[torch.Tensor, ...] | None = None

    # -- rollout -----------------------------------------------------------------------------
    @torch.no_grad()
    def act(self, obs: torch.Tensor) -> torch.Tensor:
        """Normalised obs [N, O] -> sampled actions [N, A]; the transition waits for process_step."""
        actions, log_probs, mu, sigma = self.actor_critic.act(obs, self.generator)
        values = self.actor_critic.value(obs)
        self._pending = (obs, actions, log_probs, values, mu, sigma)
        return actions

    @torch.no_grad()
    def process_step(self, rewards: torch.Tensor, terminated: torch.Tensor, truncated: torch.Tensor,
                     final_obs: torch.Tensor | None) -> None:
        """Store the step. rewards, terminated, truncated: [N]; final_obs: normalised [N, O] or None.

        Time-limit bootstrapping (Pardo et al. 2018): a truncated episode did not end, so its last
        reward gets ``gamma * V(final_obs)`` added before GAE treats the step as an episode end.
        """
        if self._pending is None:
            raise RuntimeError("process_step() without act()")
        rewards = rewards.clone()
        if final_obs is not None and bool(truncated.any()):
            rows = truncated.nonzero().squeeze(-1)
            rewards[rows] += self.cfg.gamma * self.actor_critic.value(final_obs[rows])
        dones = (terminated | truncated).float()
        obs, actions, log_probs, values, mu, sigma = self._pending
        self.storage.add(obs, actions, log_probs, values, mu, sigma, rewards, dones)
        self._pending = None

    @torch.no_grad()
    def compute_returns(self, last_obs: torch.Tensor) -> None:
        """GAE over the filled storage, bootstrapping from V(last_obs) (normalised [N, O])."""
        last_values = self.actor_critic.value(last_obs)
        self.storage.compute_returns(last_values, self.cfg.gamma, self.cfg.lam, self.cfg.normalize_advantages)

    # -- learning ----------------------------------------------------------------------------
    def set_progress(self, fraction: float) -> None:
        """Linear schedule: lr = lr0 * (1 - fraction), floored at min_learning_rate."""
        if self.cfg.schedule == "linear":
            self._set_lr(max(self.cfg.learning_rate * (1.0 - fraction), self.cfg.min_learning_rate))

    def update(self) -> dict[str, float]:
        """Epochs of minibatch SGD on the storage, then clear it. Returns mean losses and stats."""
        cfg = self.cfg
        sums = {"surrogate": 0.0, "value_function": 0.0, "entropy": 0.0, "approx_kl": 0.0, "clip_fraction": 0.0}
        grad_norm_sum, count = 0.0, 0
        for mb in self.storage.mini_batches(cfg.num_mini_batches, cfg.num_learning_epochs, self.generator):
            log_probs, entropy, values, mu, sigma = self.actor_critic.evaluate(mb.obs, mb.actions)
            with torch.no_grad():
                kl = gaussian_kl(mb.old_mu, mb.old_sigma, mu, sigma)
            if cfg.schedule == "adaptive":
                self._adapt_lr(kl.item())
            losses = ppo_losses(log_probs, mb.old_log_probs, mb.advantages, values, mb.old_values, mb.returns,
                                entropy, cfg.clip_param, cfg.use_clipped_value_loss)
            loss = losses.surrogate + cfg.value_loss_coef * losses.value - cfg.entropy_coef * losses.entropy
            self.optimizer.zero_grad()
            loss.backward()
            grad_norm = nn.utils.clip_grad_norm_(self.actor_critic.parameters(), cfg.max_grad_norm)
            self.optimizer.step()
            self.actor_critic.bound_noise()
            sums["surrogate"] += losses.surrogate.item()
            sums["value_function"] += losses.value.item()
            sums["entropy"] += losses.entropy.item()
            sums["approx_kl"] += kl.item()
            sums["clip_fraction"] += losses.clip_fraction.item()
            grad_norm_sum += float(grad_norm)
            count += 1
        self.storage.clear()
        out = {k: v / count for k, v in sums.items()}
        out["grad_norm"] = grad_norm_sum / count
        out["learning_rate"] = self.learning_rate
        return out

    def _adapt_lr(self, kl: float) -> None:
        """rsl_rl's adaptive schedule: divide lr by 1.5 when KL > 2 * target, multiply when < target / 2."""
        if kl > 2.0 * self.cfg.desired_kl:
            self._set_lr(max(self.cfg.min_learning_rate, self.learning_rate / 1.5))
        elif 0.0 < kl < 0.5 * self.cfg.desired_kl:
            self._set_lr(min(self.cfg.max_learning_rate, self.learning_rate * 1.5))

    def _set_lr(self, lr: float) -> None:
        self.learning_rate = lr
        self.optimizer.lr = lr

    # -- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"model": self.actor_critic.state_dict(), "optimizer": self.optimizer.state_dict(),
                "learning_rate": self.learning_rate}

    def load_state_dict(self, state: dict, *, load_optimizer: bool = True) -> None:
        self.actor_critic.load_state_dict(state["model"])
        self.actor_critic.bound_noise()  # a warm start from a noisier policy begins at this run's bound
        if load_optimizer:
            self.optimizer.load_state_dict(state["optimizer"])
            self._set_lr(float(state["learning_rate"]))
