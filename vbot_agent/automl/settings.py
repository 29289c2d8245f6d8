"""Typed campaign settings: the automl YAML, then the command-line flags, parsed once.

The resolved settings are written whole into the state (``settings:``) and into the optuna study,
so ``vbot automl --resume`` and ``vbot automl worker`` need nothing but the state or the study
(and, for a storage with a password, the password: it is never stored): the search space and the
base trainer config are stored inline, not as paths.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from vbot_agent.automl.search_space import SearchSpace, parse_search_space
from vbot_agent.config import from_mapping, load_yaml, to_dict
from vbot_agent.errors import UsageError
from vbot_agent.trials.backend import DEFAULT_BACKEND
from vbot_agent.trials.score import ScoreWeights
from vbot_agent.trials.trial_settings import EvaluationSettings, TimeoutSettings


@dataclass(frozen=True)
class PrunerSettings:
    # successive_halving: trials that rank in the top 1/reduction_factor at min_trial_steps train on
    # to trial_steps, the rest stop there, so most compute goes to promising settings
    type: Literal["successive_halving", "median", "none"] = "successive_halving"
    reduction_factor: int = 3
    n_startup_trials: int = 3  # trials finished before pruning starts
    n_warmup_steps: int = 1  # intermediate evaluations of a trial before it may be pruned


@dataclass(frozen=True)
class AutomlSettings:
    """Everything a campaign needs, in plain types (the state's ``settings:``)."""

    env_id: str = "vbot_navigation_section001"
    mode: Literal["hp", "reward", "stage"] = "stage"
    budget_hours: float = 8.0
    # None ("auto"): planned from the budget and the measured throughput (automl/budget.py)
    hp_trials: int | None = None  # trials of the search phase (complete + pruned + failed)
    trial_steps: int | None = None  # env steps per search trial
    final_steps: int | None = None  # env steps of the final training (mode stage)
    min_trial_steps: int = 4_000_000  # section001: no evaluation success before ~4M env steps (learning benchmark)
    final_fraction: float = 0.5  # share of the budget a planned final run gets (mode stage)
    num_envs: int = 1024  # as `vbot train`, so a trial learns as a single run does
    final_reserve_hours: float = 0.0  # mode stage: the search stops this long before the budget ends (planned)
    seed: int = 0  # sampler seed; trial k trains with seed + k
    storage: str | None = None  # optuna storage URL; None: SQLite file in the workspace
    train: dict[str, Any] = field(default_factory=dict)  # base trainer config (as in `vbot train --config`)
    search_space: dict[str, Any] = field(default_factory=dict)  # inline copy (see search_space.py)
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    score: ScoreWeights = field(default_factory=ScoreWeights)
    pruner: PrunerSettings = field(default_factory=PrunerSettings)
    sampler_startup_trials: int = 5  # random trials before TPE models the space
    # "best": every search trial after the first complete one continues the best complete trial's
    # policy with its own settings (exploit and explore, population one at a time), so the search's
    # env steps train one lineage instead of restarting; "scratch": every trial starts fresh
    trials_from: Literal["scratch", "best"] = "scratch"
    max_retries: int = 1  # reruns of a trial whose worker died or was interrupted
    timeouts: TimeoutSettings = field(default_factory=TimeoutSettings)
    backend: str = DEFAULT_BACKEND  # module with train_command / evaluate / check_overrides

    def __post_init__(self) -> None:
        if self.budget_hours <= 0:
            raise ValueError("budget_hours must be > 0")
        for name in ("hp_trials", "trial_steps", "final_steps", "num_envs", "min_trial_steps"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0")
        if not 0.0 < self.final_fraction < 1.0:
            raise ValueError("final_fraction must be between 0 and 1")

    def space(self) -> SearchSpace:
        """The search space of this campaign's mode."""
        space = parse_search_space(self.search_space).for_mode(self.mode)
        sizes = [k for k in space.params if k.endswith("_hidden_dims")]
        if self.trials_from == "best" and sizes:
            raise UsageError(f"trials_from: best continues the best trial's policy, whose network a trial cannot "
                             f"change: remove {', '.join(sizes)} from the search space, or use trials_from: scratch")
        return space


FLAG_KEYS = ("env_id", "mode", "budget_hours", "hp_trials", "trial_steps", "final_steps", "seed", "storage")


def resolve_settings(config_file: Path, flags: Mapping[str, Any]) -> AutomlSettings:
    """Settings from the automl YAML ``config_file``, then the flags that were given.

    ``search_space`` may be a path (relative to the YAML file) or an inline mapping; ``train_config``
    (optional path) is read into ``train``. Raises UsageError naming the key on any problem.
    """
    data = dict(load_yaml(config_file))
    base = config_file.parent
    space = data.get("search_space")
    if space is None:
        raise UsageError(f"{config_file}: search_space: is required (a path like search_space.yaml, or a mapping)")
    if isinstance(space, str):
        data["search_space"] = load_yaml(_relative(base, space))
    if "train_config" in data:
        path = data.pop("train_config")
        if path is not None:
            if data.get("train"):
                raise UsageError(f"{config_file}: give train_config: or train:, not both")
            data["train"] = load_yaml(_relative(base, path))
    for key in FLAG_KEYS:
        if flags.get(key) is not None:
            data[key] = flags[key]
    for key in ("hp_trials", "trial_steps", "final_steps"):
        if data.get(key) == "auto":
            data[key] = None  # planned from the budget (automl/budget.py)
    settings = from_mapping(AutomlSettings, data, where="")
    settings.space()  # parse and check the mode's keys now, at the edge
    return settings


def settings_from_dict(data: Mapping[str, Any], where: str) -> AutomlSettings:
    """Rebuild settings stored in a state or study (``where`` names it in errors)."""
    try:
        return from_mapping(AutomlSettings, data)
    except UsageError as exc:
        raise UsageError(f"{where}: stored campaign settings are not readable by this vbot: {exc}") from None


def settings_to_dict(settings: AutomlSettings) -> dict[str, Any]:
    """Plain data for the state, the log and the study, with the storage password redacted."""
    data = to_dict(settings)
    if data.get("storage"):
        data["storage"] = redact(data["storage"])
    return data


REDACTED = "***"


def _credentials(url: str) -> tuple[str, str, bool, str] | None:
    """``scheme://user[:password]@rest`` -> (scheme, user, has a password, rest); None without a user."""
    head, sep, rest = url.partition("@")
    if not sep or "://" not in head:
        return None
    scheme, _, creds = head.partition("://")
    return scheme, creds.split(":", 1)[0], ":" in creds, rest


def redact(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user:***@host/db`` (files and messages);
    a ``password=`` query parameter is masked too."""
    url = re.sub(r"([?&]password=)[^&]*", rf"\g<1>{REDACTED}", url)
    parts = _credentials(url)
    if parts is None or not parts[2]:
        return url
    scheme, user, _, rest = parts
    return f"{scheme}://{user}:{REDACTED}@{rest}"


def without_password(url: str) -> str:
    """``postgresql://user:secret@host/db`` -> ``postgresql://user@host/db``: libpq then takes the
    password from PGPASSWORD or ~/.pgpass."""
    head, sep, query = url.partition("?")
    if sep:
        kept = [item for item in query.split("&") if not item.startswith("password=")]
        url = head + ("?" + "&".join(kept) if kept else "")
    parts = _credentials(url)
    if parts is None:
        return url
    scheme, user, _, rest = parts
    return f"{scheme}://{user}@{rest}"


def is_redacted(url: str) -> bool:
    return redact(url) == url and (f":{REDACTED}@" in url or f"password={REDACTED}" in url)


def with_budget(settings: AutomlSettings, budget_hours: float) -> AutomlSettings:
    return replace(settings, budget_hours=budget_hours)


def _relative(base: Path, path: str) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else base / candidate


def storage_for_resume(stored: str, given: str | None) -> str:
    """The URL to reopen a campaign's storage: ``given`` (same storage, with its password) or the
    stored one without the redacted password (libpq: PGPASSWORD, ~/.pgpass)."""
    if given is not None:
        if without_password(given) != without_password(stored):
            raise UsageError(f"--storage with --resume only supplies the password of the campaign's own storage "
                             f"({redact(stored)}); got {redact(given)}")
        return given
    return without_password(stored) if is_redacted(stored) else stored
