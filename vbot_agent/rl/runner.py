"""One training iteration and the run's state: rollout, update, evaluation (rsl_rl's ``OnPolicyRunner``).

The runner owns the env, the observation normaliser, the checkpoint payload, evaluation and the
NaN checks; ``PPO`` owns only the learning; ``loop.train`` drives iterations, logging and
checkpoints; ``episode_stats`` turns a rollout's env info into logged scalars.

CPU sharing: collection (physics threads) and the update (torch threads) run one after the other,
so each gets every core in turn. Torch runs on one thread while envs step (collection and
evaluation): its per-step work (one policy forward) is small, and idle OpenMP workers spinning
between steps would take cycles from the physics threads (collection measured 13% faster so).

Exact resume: a checkpoint holds the model, optimiser, normaliser, learning rate, iteration, env
steps, torch RNG states, the env state (``env.get_state()``) and the current observation, so a run
resumed from it makes the same decisions as one that never stopped. TensorBoard is reopened with
``purge_step`` = the checkpoint's env steps, so steps logged after it by the interrupted process are
dropped instead of duplicated.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vbot_agent import tensorboard_tags as tags
from vbot_agent.config import to_dict
from vbot_agent.fileio import atomic_write_json
from vbot_agent.rl.checkpoint import decode_tree, encode_tree, save_checkpoint
from vbot_agent.rl.config import TrainConfig
from vbot_agent.rl.envs import check_compatible, make_env
from vbot_agent.rl.episode_stats import EpisodeAccumulator
from vbot_agent.rl.evaluate import EvalResult, evaluate
from vbot_agent.rl.networks import ActorCritic
from vbot_agent.rl.normalizer import EmpiricalNormalizer
from vbot_agent.rl.ppo import PPO
from vbot_agent.rl.precision import PrecisionChoice, resolve_precision, update_shape
from vbot_agent.rl.run_dir import (
    CHECKPOINT_DIR,
    FINAL_EVALUATION,
    ProgressFile,
    wall_clock,
)


@dataclass(frozen=True)
class WarmStart:
    """``--checkpoint``: weights (and normaliser) from another run; a fresh run otherwise."""

    checkpoint: dict[str, Any]
    path: str
    reset_optimizer: bool = False
    freeze_normalizer: bool = False


@dataclass
class IterationStats:
    """Everything logged for one iteration (step = env steps at its end)."""

    iteration: int
    env_steps: int
    env_steps_per_s: float
    scalars: dict[str, float] = field(default_factory=dict)


class OnPolicyRunner:
    """Trains ``cfg`` in ``run_dir``; ``resume`` is a loaded checkpoint of this same run, or None."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, *, resume: dict[str, Any] | None = None,
                 warm_start: WarmStart | None = None, started_at: str | None = None) -> None:
        self.cfg, self.run_dir = cfg, run_dir
        self.device = torch.device(cfg.device)
        cores = os.cpu_count() or 1
        torch.set_num_threads(cfg.torch_threads or cores)
        torch.manual_seed(cfg.seed)
        self.env = make_env(cfg.env_id, cfg.num_envs, seed=cfg.seed, env=cfg.env, reward=cfg.reward,
                            threads=cfg.physics_threads or None, stagger_episodes=True)
        pol = cfg.policy
        self.normalizer = EmpiricalNormalizer(self.env.obs_dim, clip=pol.normalizer_clip,
                                              enabled=pol.normalize_observations).to(self.device)
        self.precision = self._precision(resume)
        actor_critic = ActorCritic(self.env.obs_dim, self.env.action_dim, pol.actor_hidden_dims,
                                   pol.critic_hidden_dims, pol.activation, pol.init_noise_std,
                                   self.precision.precision, pol.max_noise_std)
        self.generator = torch.Generator(device=self.device).manual_seed(cfg.seed)
        self.alg = PPO(actor_critic, cfg.ppo, cfg.num_envs, self.device, self.generator)
        self.iteration, self.env_steps = 0, 0
        self.best_score = -math.inf
        self.last_values: dict[str, float] = {}
        self.obs = self.env.reset(seed=cfg.seed)
        self.progress = ProgressFile(run_dir, cfg.env_id, cfg.max_env_steps, started_at)
        if resume is not None:
            self._restore(resume)
        elif warm_start is not None:
            self._warm_start(warm_start)
        self._eval_envs: dict[int, Any] = {}  # evaluation envs by episode count

    # -- state ------------------------------------------------------------------------------
    def _precision(self, resume: dict[str, Any] | None) -> PrecisionChoice:
        """A resumed run keeps the precision it was trained in; a new one resolves ``policy.precision``
        (``auto``: timed on this machine, cached) for the update's minibatch."""
        if resume is not None and resume.get("precision") in ("fp32", "bf16"):
            return PrecisionChoice(resume["precision"], "checkpoint")
        cfg, pol = self.cfg, self.cfg.policy
        rows = max(1, cfg.steps_per_iteration // cfg.ppo.num_mini_batches)
        shape = update_shape(self.env.obs_dim, self.env.action_dim, pol.actor_hidden_dims,
                             pol.critic_hidden_dims, pol.activation, rows)
        return resolve_precision(pol.precision, self.device, shape)

    def _restore(self, ckpt: dict[str, Any]) -> None:
        check_compatible(ckpt, self.run_dir, env_id=self.cfg.env_id, obs_dim=self.env.obs_dim,
                         action_dim=self.env.action_dim, same_env_id=True)
        self.alg.load_state_dict(ckpt["ppo"])
        self.normalizer.load_state_dict(ckpt["normalizer"])
        self.normalizer.frozen = bool(ckpt.get("normalizer_frozen", False))
        self.generator.set_state(ckpt["rng"]["generator"])
        torch.set_rng_state(ckpt["rng"]["torch"])
        self.iteration, self.env_steps = int(ckpt["iteration"]), int(ckpt["env_steps"])
        self.best_score = float(ckpt.get("best_score", -math.inf))
        self.last_values = dict(ckpt.get("last_values", {}))
        env_state = decode_tree(ckpt["env_state"])
        if env_state:
            self.env.set_state(env_state)
            self.obs = decode_tree(ckpt["obs"])
        else:  # the env cannot capture its state (Gymnasium): reseed, documented as not bit-exact
            self.obs = self.env.reset(seed=self.cfg.seed + self.iteration)

    def _warm_start(self, warm: WarmStart) -> None:
        ckpt = warm.checkpoint
        check_compatible(ckpt, warm.path, env_id=self.cfg.env_id, obs_dim=self.env.obs_dim,
                         action_dim=self.env.action_dim, same_env_id=False)
        self.alg.load_state_dict(ckpt["ppo"], load_optimizer=not warm.reset_optimizer)
        self.alg._set_lr(self.cfg.ppo.learning_rate)  # the new run's lr (with --lr-multiplier applied)
        self.normalizer.load_state_dict(ckpt["normalizer"])
        self.normalizer.frozen = warm.freeze_normalizer

    def checkpoint_payload(self) -> dict[str, Any]:
        return {
            "env_id": self.cfg.env_id, "obs_dim": self.env.obs_dim, "action_dim": self.env.action_dim,
            "config": to_dict(self.cfg), "iteration": self.iteration, "env_steps": self.env_steps,
            "ppo": self.alg.state_dict(), "normalizer": self.normalizer.state_dict(),
            "normalizer_frozen": self.normalizer.frozen,
            "rng": {"generator": self.generator.get_state(), "torch": torch.get_rng_state()},
            "env_state": encode_tree(self.env.get_state()), "obs": encode_tree(self.obs),
            "best_score": self.best_score, "last_values": dict(self.last_values),
            "precision": self.alg.actor_critic.precision,
        }

    def save(self, name: str) -> Path:
        path = self.run_dir / CHECKPOINT_DIR / name
        save_checkpoint(path, self.checkpoint_payload())
        return path

    # -- one iteration ----------------------------------------------------------------------
    def _collect(self) -> EpisodeAccumulator:
        with _torch_threads(1):
            return self._collect_steps()

    def _collect_steps(self) -> EpisodeAccumulator:
        acc = EpisodeAccumulator()
        dev = self.device
        for _ in range(self.cfg.ppo.num_steps_per_env):
            obs = torch.from_numpy(self.obs).to(dev)
            self.normalizer.update(obs)
            actions = self.alg.act(self.normalizer(obs))
            next_obs, rewards, terminated, truncated, info = self.env.step(actions.cpu().numpy())
            if not (np.isfinite(next_obs).all() and np.isfinite(rewards).all()):
                raise NonFiniteError("the env returned a non-finite observation or reward")
            final_obs = None
            if truncated.any():
                final_obs = self.normalizer(torch.from_numpy(np.asarray(info["final_obs"], np.float32)).to(dev))
            self.alg.process_step(torch.from_numpy(np.asarray(rewards, np.float32)).to(dev),
                                  torch.from_numpy(np.asarray(terminated)).to(dev),
                                  torch.from_numpy(np.asarray(truncated)).to(dev), final_obs)
            acc.add(rewards, info)
            self.obs = next_obs
        self.alg.compute_returns(self.normalizer(torch.from_numpy(self.obs).to(dev)))
        return acc

    def run_iteration(self) -> IterationStats:
        """Collect one rollout, update once; raises NonFiniteError when anything became NaN/inf."""
        t0 = wall_clock()
        acc = self._collect()
        t1 = wall_clock()
        fraction = self.env_steps / self.cfg.max_env_steps
        self.alg.set_progress(fraction)
        if self.cfg.policy.final_noise_std is not None:
            self.alg.actor_critic.set_max_noise_std(self.cfg.policy.noise_cap(fraction))
        losses = self.alg.update()
        t2 = wall_clock()
        if not all(math.isfinite(v) for v in losses.values()) or not self._parameters_finite():
            raise NonFiniteError(f"non-finite loss or parameters after the update ({_fmt(losses)})")
        self.iteration += 1
        self.env_steps += self.cfg.steps_per_iteration
        steps_per_s = self.cfg.steps_per_iteration / max(t2 - t0, 1e-9)
        scalars = acc.scalars()
        scalars.update({
            tags.LOSS_SURROGATE: losses["surrogate"], tags.LOSS_VALUE: losses["value_function"],
            tags.LOSS_ENTROPY: losses["entropy"], tags.LOSS_APPROX_KL: losses["approx_kl"],
            tags.LOSS_CLIP_FRACTION: losses["clip_fraction"], tags.LOSS_GRAD_NORM: losses["grad_norm"],
            tags.POLICY_STD: float(self.alg.actor_critic.log_std.detach().exp().mean()),
            tags.LEARNING_RATE: losses["learning_rate"],
            tags.ENV_STEPS_PER_S: steps_per_s,
            tags.COLLECTION_TIME_S: t1 - t0, tags.LEARN_TIME_S: t2 - t1,
        })
        return IterationStats(self.iteration, self.env_steps, steps_per_s, scalars)

    def _parameters_finite(self) -> bool:
        tensors = [*self.alg.actor_critic.parameters(), self.normalizer.mean, self.normalizer.var]
        return all(bool(torch.isfinite(t).all()) for t in tensors)

    # -- evaluation -------------------------------------------------------------------------
    def evaluate(self, episodes: int | None = None) -> EvalResult:
        """Deterministic episodes on a separate env (never touches the training env or its RNG)."""
        episodes = episodes or self.cfg.eval.episodes
        env = self._eval_envs.get(episodes)
        if env is None:
            env = self._eval_envs[episodes] = make_env(
                self.cfg.env_id, episodes, seed=self.cfg.eval.seed, env=self.cfg.env, reward=self.cfg.reward,
                threads=self.cfg.physics_threads or None)
        model, norm, dev = self.alg.actor_critic, self.normalizer, self.device

        @torch.no_grad()
        def policy(obs: np.ndarray) -> np.ndarray:
            return model.act_inference(norm(torch.from_numpy(obs).to(dev))).cpu().numpy()

        with _torch_threads(1):  # as in collection (128 episodes: 5.0-5.7 s instead of 8.2-8.7 s)
            return evaluate(policy, env, seed=self.cfg.eval.seed)

    def final_evaluation(self) -> dict[str, Any]:
        """Evaluate the current (= last.pt's) policy on ``eval.final_episodes``; write final_evaluation.json."""
        started = time.perf_counter()
        episodes = self.cfg.eval.final_episodes
        result = self.evaluate(episodes)
        env = self._eval_envs[episodes]
        record = {
            "checkpoint": str(self.run_dir / CHECKPOINT_DIR / "last.pt"), "iteration": self.iteration,
            "env_steps": self.env_steps, "episodes": episodes, "seed": self.cfg.eval.seed,
            "episode_time_s": float(env.max_episode_steps * env.control_dt) if env.max_episode_steps > 0 else None,
            "wall_s": round(time.perf_counter() - started, 3), "result": result.to_dict(),
        }
        atomic_write_json(self.run_dir / FINAL_EVALUATION, record)
        return record

    def close(self) -> None:
        self.env.close()
        for env in self._eval_envs.values():
            env.close()


class NonFiniteError(Exception):
    """The NaN guard tripped (raised by ``run_iteration``, handled by ``loop.train``)."""


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _fmt(values: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in values.items())


