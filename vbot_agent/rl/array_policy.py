"""A checkpoint's deterministic actor as numpy arrays, for commands that should not hold torch.

``vbot play --video`` and ``--frames`` open a software GL context (about 150 MB with Mesa), and
importing torch alone takes about 220 MB, so recording runs its episode without torch: a short-lived
child process (``python -m vbot_agent.rl.array_policy CHECKPOINT OUT``) loads the checkpoint with
torch, writes the normaliser and the actor's layers as arrays, and exits before the env and the
renderer are built. :class:`ArrayPolicy` then computes the same deterministic action as
``InferencePolicy``: a bf16 policy's hidden layers round their inputs, weights, biases and outputs
to bfloat16 as torch's CPU autocast does, the output layer stays fp32. Actions agree with torch to
within a bfloat16 rounding step (fp32 policies: ~1e-6).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from vbot_agent.errors import UsageError, VbotError

EXTRACT_TIMEOUT_S = 300.0


def to_bf16(x: np.ndarray) -> np.ndarray:
    """float32 values rounded to the nearest bfloat16 (ties to even), kept as float32."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return rounded.view(np.float32)


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


ACTIVATIONS = {"elu": _elu, "relu": lambda x: np.maximum(x, 0), "tanh": np.tanh}


class ArrayPolicy:
    """Normaliser + deterministic actor from arrays: obs [N, O] numpy -> actions [N, A] numpy.

    Carries what ``vbot play`` reads of a policy: ``env_id``, ``obs_dim``, ``action_dim``,
    ``config`` (the TrainConfig), ``iteration`` and ``env_steps``.
    """

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        from vbot_agent.rl.config import config_from_checkpoint

        self.config = config_from_checkpoint(meta["config"])
        self.env_id, self.obs_dim, self.action_dim = meta["env_id"], int(meta["obs_dim"]), int(meta["action_dim"])
        self.iteration, self.env_steps = int(meta["iteration"]), int(meta["env_steps"])
        self.precision, self.activation = meta["precision"], ACTIVATIONS[meta["activation"]]
        self.normalize, self.clip, self.eps = bool(meta["normalize"]), float(meta["clip"]), float(meta["eps"])
        self.mean = arrays["norm_mean"].astype(np.float32)
        self.std = np.sqrt(arrays["norm_var"].astype(np.float32) + np.float32(self.eps))
        count = int(meta["layers"])
        self.layers = [(arrays[f"w{i}"].astype(np.float32), arrays[f"b{i}"].astype(np.float32)) for i in range(count)]
        if self.precision == "bf16":  # autocast casts the hidden layers' weights and biases to bfloat16
            self.layers = [(to_bf16(w), to_bf16(b)) for w, b in self.layers[:-1]] + [self.layers[-1]]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, dtype=np.float32)
        if self.normalize:
            x = np.clip((x - self.mean) / self.std, -self.clip, self.clip).astype(np.float32)
        bf16 = self.precision == "bf16"
        for w, b in self.layers[:-1]:
            if bf16:
                x = to_bf16(self.activation(to_bf16(to_bf16(x) @ w.T + b)))
            else:
                x = self.activation(x @ w.T + b)
        w, b = self.layers[-1]
        return (x @ w.T + b).astype(np.float32)


def load_array_policy(path: str | os.PathLike, timeout_s: float = EXTRACT_TIMEOUT_S) -> ArrayPolicy:
    """The checkpoint at ``path`` as an :class:`ArrayPolicy`, extracted by a child process (this one
    never imports torch). A bad checkpoint is the child's one-line UsageError."""
    with tempfile.TemporaryDirectory(prefix="vbot_policy_") as tmp:
        out = Path(tmp) / "policy"
        try:
            proc = subprocess.run([sys.executable, "-m", "vbot_agent.rl.array_policy", str(path), str(out)],
                                  capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise VbotError(f"reading the policy {path} took over {timeout_s:g} s") from None
        if proc.returncode == 2:
            raise UsageError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"cannot read {path}")
        if proc.returncode != 0:
            raise VbotError(f"reading the policy {path} failed (exit {proc.returncode}): "
                            f"{(proc.stderr.strip().splitlines() or ['no message'])[-1]}")
        meta = json.loads(out.with_suffix(".json").read_text())
        with np.load(out.with_suffix(".npz"), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    return ArrayPolicy(arrays, meta)


def extract(path: str, out: Path) -> None:
    """Child side: write ``out``.npz (normaliser, layers) and ``out``.json (the rest) of a checkpoint."""
    import torch

    from vbot_agent.config import to_dict
    from vbot_agent.rl.checkpoint import InferencePolicy, load_checkpoint

    data = load_checkpoint(path)
    pol = InferencePolicy(data)
    linears = [m for m in pol.model.actor if isinstance(m, torch.nn.Linear)]
    arrays = {"norm_mean": pol.normalizer.mean.numpy(), "norm_var": pol.normalizer.var.numpy()}
    for i, layer in enumerate(linears):
        arrays[f"w{i}"] = layer.weight.detach().numpy()
        arrays[f"b{i}"] = layer.bias.detach().numpy()
    np.savez(out.with_suffix(".npz"), **arrays)
    cfg = pol.config.policy
    meta = {"env_id": pol.env_id, "obs_dim": pol.obs_dim, "action_dim": pol.action_dim,
            "iteration": pol.iteration, "env_steps": pol.env_steps, "config": to_dict(pol.config),
            "precision": pol.model.precision, "activation": cfg.activation, "layers": len(linears),
            "normalize": bool(pol.normalizer.enabled), "clip": float(pol.normalizer.clip),
            "eps": float(pol.normalizer.eps)}
    out.with_suffix(".json").write_text(json.dumps(meta))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m vbot_agent.rl.array_policy CHECKPOINT OUT", file=sys.stderr)
        return 2
    try:
        extract(argv[0], Path(argv[1]))
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
