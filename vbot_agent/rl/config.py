"""Typed, frozen training configuration (one dataclass per layer, parsed once at the edge).

``TrainConfig`` is what a run is: env id, sizes, seeds, PPO and policy settings, env options and
reward scales. It is built by :func:`resolve_train_config` from (in order) the defaults, a YAML
file, ``--set key=value`` overrides and the CLI flags, and it is saved whole in
``experiment_meta.json`` and in every checkpoint.

``env`` and ``reward`` are plain mappings here because their schema belongs to the env family
(``NavConfig`` / ``RewardConfig`` for VBot ids, ``gym.make`` keyword arguments for ``gym:`` ids);
:func:`vbot_agent.rl.envs.resolve_env_options` validates them against that schema and fills in
every default, so the resolved config names every reward scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from vbot_agent.config import apply_overrides, from_mapping, load_yaml, to_dict
from vbot_agent.errors import UsageError, suggest


@dataclass(frozen=True)
class PPOConfig:
    """PPO hyperparameters (defaults: rsl_rl's legged-robot settings, Rudin et al. 2021)."""

    num_steps_per_env: int = 24  # rollout length per env and iteration
    # rsl_rl's 5 x 4. 3 x 2 trains ~1.3x more env steps/s on 2 CPU cores, but on section001 it
    # needed ~16M steps for 50% success against ~5M here: slower to a good policy.
    num_learning_epochs: int = 5
    num_mini_batches: int = 4
    learning_rate: float = 1e-3
    schedule: Literal["adaptive", "linear", "fixed"] = "linear"  # docs/design.md, "Failures we design against": linear is steadier on long runs
    desired_kl: float = 0.01  # target of the adaptive schedule
    min_learning_rate: float = 1e-5
    max_learning_rate: float = 1e-2
    gamma: float = 0.99
    lam: float = 0.95  # GAE lambda
    clip_param: float = 0.2  # surrogate and value clip
    value_loss_coef: float = 1.0
    use_clipped_value_loss: bool = True
    entropy_coef: float = 0.005
    max_grad_norm: float = 1.0
    normalize_advantages: bool = True

    def __post_init__(self) -> None:
        _positive(self, "num_steps_per_env", "num_learning_epochs", "num_mini_batches", "learning_rate",
                  "clip_param", "max_grad_norm", "desired_kl", "min_learning_rate", "max_learning_rate")
        if not 0.0 < self.gamma <= 1.0 or not 0.0 <= self.lam <= 1.0:
            raise ValueError("gamma must be in (0, 1] and lam in [0, 1]")
        if self.entropy_coef < 0 or self.value_loss_coef < 0:
            raise ValueError("entropy_coef and value_loss_coef must be >= 0")


@dataclass(frozen=True)
class PolicyConfig:
    """Actor-critic network: ELU MLPs with separate sizes, state-independent log-std."""

    # The wider first layer costs ~10% of the env steps/s on 2 cores but learned section001 sooner:
    # >= 90% evaluation success on all three seeds (6.1-11.1M env steps), where (128, 128, 64) reached
    # it on one of three (11.1M; benchmarks/learning.py, README).
    actor_hidden_dims: tuple[int, ...] = (256, 128, 64)
    critic_hidden_dims: tuple[int, ...] = (128, 128, 64)
    activation: Literal["elu", "relu", "tanh"] = "elu"
    init_noise_std: float = 1.0
    # Upper bound of the action noise's std (None: unbounded). Actions are clipped to [-1, 1], so
    # noise beyond ~1 only saturates them; see ActorCritic.bound_noise.
    max_noise_std: float | None = None
    # Anneal that bound: it falls linearly from max_noise_std (init_noise_std when that is null) at
    # the run's first step to this value at its max_env_steps, as the linear learning rate does
    # (None: no annealing; a value above the starting bound keeps that bound). Evaluations and the
    # competition play the mean action, which lags the sampled policy while the noise is large:
    # unannealed, the std drifted up to 1.3 and evaluations swung 0.9 -> 0.4 between checkpoints.
    # Annealed to 0.4 (12M env steps, seeds 1 and 2), >= 90% evaluation success came at 4.9M and
    # 6.1M env steps against 6.1M and 11.1M (README).
    final_noise_std: float | None = 0.4
    normalize_observations: bool = True
    normalizer_clip: float = 5.0  # clip normalised observations to +-this (std units)
    # Hidden layers in bfloat16 ("auto": on CPUs that multiply bf16 natively, AVX512-BF16 or AMX).
    # The update is ~40% faster there; see ActorCritic for what stays fp32.
    precision: Literal["auto", "fp32", "bf16"] = "auto"

    def __post_init__(self) -> None:
        if not self.actor_hidden_dims or not self.critic_hidden_dims:
            raise ValueError("actor_hidden_dims and critic_hidden_dims need at least one layer")
        if any(d <= 0 for d in (*self.actor_hidden_dims, *self.critic_hidden_dims)):
            raise ValueError("hidden sizes must be positive")
        _positive(self, "init_noise_std", "normalizer_clip")
        if self.max_noise_std is not None and not self.init_noise_std <= self.max_noise_std:
            raise ValueError(f"policy.max_noise_std ({self.max_noise_std}) must be >= init_noise_std "
                             f"({self.init_noise_std}), or null")
        if self.final_noise_std is not None and not self.final_noise_std > 0.0:
            raise ValueError(f"policy.final_noise_std must be > 0 or null, got {self.final_noise_std}")

    @property
    def start_noise_cap(self) -> float:
        return self.max_noise_std if self.max_noise_std is not None else self.init_noise_std

    def noise_cap(self, fraction: float) -> float | None:
        """The bound on the action noise's std at ``fraction`` (0..1) of the run; a final value above
        the starting bound leaves the bound where it starts (annealing never raises the noise)."""
        if self.final_noise_std is None:
            return self.max_noise_std
        start = self.start_noise_cap
        return start + (min(self.final_noise_std, start) - start) * min(max(fraction, 0.0), 1.0)


@dataclass(frozen=True)
class EvalConfig:
    """Deterministic evaluation at every checkpoint; its score picks ``best.pt``."""

    enabled: bool = True
    episodes: int = 32  # one episode per eval env, all started together
    seed: int = 12345  # fixed, so every evaluation of a run sees the same episodes
    # > 0: when the run finishes, evaluate its last policy on this many episodes (same seed) and
    # write final_evaluation.json; independent of ``enabled`` (campaign trials score from it)
    final_episodes: int = 0

    def __post_init__(self) -> None:
        _positive(self, "episodes")
        if self.final_episodes < 0:
            raise ValueError(f"final_episodes must be >= 0, got {self.final_episodes}")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved in experiment_meta.json and checkpoints)."""

    env_id: str = "vbot_navigation_section001"
    num_envs: int = 1024
    max_env_steps: int = 20_000_000
    seed: int = 0
    device: str = "cpu"
    check_point_interval: int = 50  # iterations between model_<iter>.pt / last.pt / evaluation
    torch_threads: int = 0  # 0: one per CPU core (physics and torch take turns, so both get all cores)
    physics_threads: int = 0  # 0: the env decides (one per core for large batches)
    log_interval_s: float = 10.0  # plain progress lines when not on a terminal
    ppo: PPOConfig = field(default_factory=PPOConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    env: dict[str, Any] = field(default_factory=dict)  # env options (NavConfig fields for VBot ids)
    reward: dict[str, Any] = field(default_factory=dict)  # reward config (RewardConfig, e.g. scales)

    def __post_init__(self) -> None:
        _positive(self, "num_envs", "max_env_steps", "check_point_interval")
        if self.torch_threads < 0 or self.physics_threads < 0:
            raise ValueError("torch_threads and physics_threads must be >= 0")
        if not (self.device == "cpu" or self.device.startswith("cuda")):
            raise ValueError(f"device must be cpu or cuda[:N], got {self.device!r}")

    @property
    def steps_per_iteration(self) -> int:
        return self.num_envs * self.ppo.num_steps_per_env


def _positive(obj: Any, *names: str) -> None:
    for name in names:
        if getattr(obj, name) <= 0:
            raise ValueError(f"{name} must be > 0, got {getattr(obj, name)}")


PRESETS_DIR = Path(__file__).resolve().parents[1] / "sim" / "presets"


def presets() -> list[str]:
    """Names of the packaged configs ``--config NAME`` accepts (``vbot_agent/sim/presets/NAME.yaml``)."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def config_path(config_file: str | Path) -> Path:
    """``--config``: a YAML file, or the name of a packaged preset (e.g. ``domain_randomization``)."""
    path = Path(config_file).expanduser()
    if path.is_file():
        return path
    preset = PRESETS_DIR / f"{path.name.removesuffix('.yaml')}.yaml"
    if len(path.parts) == 1 and preset.is_file():
        return preset
    raise UsageError(f"--config {config_file}: no such file, and no packaged preset of that name"
                     f"{suggest(path.name, presets())} (presets: {', '.join(presets()) or 'none'})")


def resolve_train_config(
    *,
    base: TrainConfig | Mapping[str, Any] | None = None,
    config_file: str | Path | None = None,
    overrides: Sequence[str] = (),
    flags: Mapping[str, Any] | None = None,
) -> TrainConfig:
    """Defaults <- ``base`` <- YAML ``config_file`` <- ``--set`` ``overrides`` <- CLI ``flags``.

    ``flags`` holds only the flags the user gave (e.g. ``{"num_envs": 64}``). The env options and
    reward scales are then validated against the env's own schema, with every default filled in.
    Raises UsageError (naming the valid keys) on anything unknown or mistyped.
    """
    data: dict[str, Any] = to_dict(base) if base is not None and not isinstance(base, Mapping) else dict(base or {})
    if config_file is not None:
        _deep_update(data, load_yaml(config_path(config_file)))
    cfg = from_mapping(TrainConfig, data)
    if overrides:
        cfg = apply_overrides(TrainConfig, cfg, list(overrides))
    if flags:
        cfg = from_mapping(TrainConfig, {**to_dict(cfg), **{k: v for k, v in flags.items() if v is not None}})
    from vbot_agent.rl.envs import resolve_env_options

    env_options, reward_options = resolve_env_options(cfg.env_id, cfg.env, cfg.reward)
    return replace(cfg, env=env_options, reward=reward_options)


def _deep_update(target: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


NETWORK_KEYS = ("actor_hidden_dims", "critic_hidden_dims", "activation")  # what a warm start must keep


def warm_network(cfg: TrainConfig, saved: Mapping[str, Any], path: Any) -> TrainConfig:
    """``cfg`` with the network shape of the checkpoint a run warm-starts from (``saved``: its
    stored config). A shape left at the default follows the checkpoint; one set to something else
    is refused, since the weights cannot load into it."""
    stored = saved.get("policy") or {}
    default, changes = PolicyConfig(), {}
    for key in NETWORK_KEYS:
        if key not in stored:
            continue
        want = tuple(stored[key]) if isinstance(stored[key], list) else stored[key]
        have = getattr(cfg.policy, key)
        if have == want:
            continue
        if have != getattr(default, key):
            raise UsageError(f"--checkpoint {path} has policy.{key} {_shape(want)} but this run sets {_shape(have)}; a "
                             "warm start keeps the checkpoint's network: drop that setting, or train from scratch")
        changes[key] = want
    return replace(cfg, policy=replace(cfg.policy, **changes)) if changes else cfg


def _shape(value: Any) -> str:
    return "-".join(map(str, value)) if isinstance(value, tuple) else str(value)


def config_from_checkpoint(data: Mapping[str, Any]) -> TrainConfig:
    """Rebuild the TrainConfig stored in a checkpoint or experiment_meta.json."""
    try:
        return from_mapping(TrainConfig, data)
    except UsageError as exc:
        raise UsageError(f"stored config does not match this version of vbot: {exc}") from None
