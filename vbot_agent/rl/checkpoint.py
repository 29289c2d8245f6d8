"""Checkpoint files: full training state for an exact resume, or a policy for play/eval.

A checkpoint is a ``torch.save`` dict of tensors and plain Python values only, so it loads with
``torch.load(weights_only=True)`` (no arbitrary unpickling). numpy arrays (env state) are stored as
raw bytes + dtype + shape. Writes are atomic (temp file, fsync, rename): a crash never leaves a
half-written ``last.pt``.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vbot_agent.errors import UsageError

FORMAT = "vbot-ppo/1"
_ND = "__ndarray__"


def encode_tree(value: Any) -> Any:
    """numpy arrays/scalars inside dicts/lists -> tensors and plain values (weights_only-safe)."""
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value)
        raw = torch.frombuffer(bytearray(data.tobytes()), dtype=torch.uint8) if data.nbytes else torch.zeros(0, dtype=torch.uint8)
        return {_ND: raw, "dtype": data.dtype.str, "shape": list(data.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: encode_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_tree(v) for v in value]
    return value


def decode_tree(value: Any) -> Any:
    """Inverse of :func:`encode_tree`."""
    if isinstance(value, dict):
        if _ND in value:
            buf = value[_ND].numpy().tobytes()
            return np.frombuffer(buf, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
        return {k: decode_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_tree(v) for v in value]
    return value


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus the format tag) to ``path`` atomically."""
    from vbot_agent.fileio import atomic_write

    atomic_write(path, lambda handle: torch.save({"format": FORMAT, **payload}, handle))


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint safely; UsageError (one line) when missing, unreadable or not ours."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"checkpoint {path} not found")
    problem = _damage(path)
    if problem is None:
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:  # torch's text here is a page about weights_only, not about the file
            problem = "it holds objects other than tensors and plain values (not a vbot checkpoint; not unpickled, for safety)"
        except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
            problem = f"torch cannot read it ({type(exc).__name__})"
    if problem is not None:
        raise UsageError(f"checkpoint {path} is unreadable: {problem}; use another checkpoint of the run "
                         "(checkpoints/model_<iteration>.pt) or retrain") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(f"checkpoint {path} is not a vbot PPO checkpoint (expected format {FORMAT})")
    return data


def _damage(path: Path) -> str | None:
    """Why ``path`` cannot be a torch checkpoint (a zip archive), in words; None when it may be one."""
    size = path.stat().st_size
    if size == 0:
        return "the file is empty"
    if not zipfile.is_zipfile(path):
        return f"not a torch zip archive ({size:,} bytes; truncated by a crash or a full disk, or another kind of file)"
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()  # reads every member and checks its CRC
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        return f"the zip archive is damaged ({type(exc).__name__})"
    if bad is not None:
        return f"the zip archive is damaged (checksum error in {bad})"
    return None


class InferencePolicy:
    """Normaliser + deterministic actor from a checkpoint: obs [N, O] numpy -> actions [N, A] numpy."""

    def __init__(self, data: dict[str, Any], device: str = "cpu") -> None:
        from vbot_agent.rl.config import config_from_checkpoint
        from vbot_agent.rl.networks import ActorCritic
        from vbot_agent.rl.normalizer import EmpiricalNormalizer
        from vbot_agent.rl.precision import resolve_precision, update_shape

        self.config = config_from_checkpoint(data["config"])
        pol = self.config.policy
        self.env_id, self.obs_dim, self.action_dim = data["env_id"], data["obs_dim"], data["action_dim"]
        self.device = torch.device(device)
        # The precision it was trained in (older checkpoints: resolved as a new run would be).
        precision = data.get("precision")
        if precision not in ("fp32", "bf16"):
            rows = max(1, self.config.steps_per_iteration // self.config.ppo.num_mini_batches)
            shape = update_shape(self.obs_dim, self.action_dim, pol.actor_hidden_dims, pol.critic_hidden_dims,
                                 pol.activation, rows)
            precision = resolve_precision(pol.precision, self.device, shape).precision
        self.model = ActorCritic(self.obs_dim, self.action_dim, pol.actor_hidden_dims, pol.critic_hidden_dims,
                                 pol.activation, pol.init_noise_std, precision).to(self.device)
        self.model.load_state_dict(data["ppo"]["model"])
        self.normalizer = EmpiricalNormalizer(self.obs_dim, clip=pol.normalizer_clip,
                                              enabled=pol.normalize_observations).to(self.device)
        self.normalizer.load_state_dict(data["normalizer"])
        self.model.eval()
        self.iteration, self.env_steps = int(data["iteration"]), int(data["env_steps"])

    @torch.no_grad()
    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        return self.model.act_inference(self.normalizer(x)).cpu().numpy()


def load_policy(path: str | os.PathLike, device: str = "cpu") -> InferencePolicy:
    return InferencePolicy(load_checkpoint(path), device)


def run_config(path: str | os.PathLike) -> dict[str, Any] | None:
    """The whole config of a run, for ``vbot train --config RUN``: from a run folder (its
    experiment_meta.json), a curriculum stage's folder (its best.pt) or a checkpoint file; None when
    ``path`` is none of these (a YAML file or a preset's name). The trainer's own evaluations are on:
    a curriculum or campaign turns them off in its runs because it evaluates them itself, and a run
    continued alone needs them to keep a measured best.pt."""
    config = _run_config(path)
    if config is not None and isinstance(config.get("eval"), dict):
        config["eval"] = {**config["eval"], "enabled": True}
    return config


def _run_config(path: str | os.PathLike) -> dict[str, Any] | None:
    import json

    path = Path(path).expanduser()
    if path.is_dir():
        meta = path / "experiment_meta.json"
        if meta.is_file():
            try:
                data = json.loads(meta.read_text())
            except (OSError, ValueError) as exc:
                raise UsageError(f"--config {path}: cannot read {meta.name} ({exc})") from None
            if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
                raise UsageError(f"--config {path}: {meta.name} holds no run config")
            return dict(data["config"])
        if not (path / "best.pt").is_file():
            raise UsageError(f"--config {path}: a folder must be a run folder (experiment_meta.json) "
                             "or a curriculum stage's folder (best.pt)")
        path = path / "best.pt"
    if path.suffix == ".pt" and path.is_file():
        return dict(load_checkpoint(path).get("config") or {})
    return None
