"""The deployable policy: observation normaliser folded into the actor, fp32, mean action out.

``DeployedPolicy`` maps raw observations ``obs [B, 63]`` (float32, the units of the sidecar's
layout) to actions ``[B, 12]`` (the Gaussian's mean, before the env's clip to [-1, 1]). It is what
``vbot export`` writes as ONNX and TorchScript. It always computes in fp32: a policy trained with
bf16 hidden layers (``policy.precision``) keeps its fp32 weights, so the exported graph is the
fp32 forward of the same parameters.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

ONNX_OPSET = 17
INPUT_NAME, OUTPUT_NAME = "obs", "actions"


class DeployedPolicy(nn.Module):
    """``actions = actor(clip((obs - mean) / sqrt(var + eps), -clip, clip))``; obs [B, O] -> [B, A]."""

    def __init__(self, actor: nn.Sequential, mean: torch.Tensor, std: torch.Tensor, clip: float,
                 normalize: bool) -> None:
        super().__init__()
        self.actor = actor
        self.register_buffer("mean", mean.detach().clone().float())
        self.register_buffer("std", std.detach().clone().float())
        self.clip = float(clip)
        self.normalize = bool(normalize)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = torch.clamp((obs - self.mean) / self.std, -self.clip, self.clip) if self.normalize else obs
        return self.actor(x)


def deployed_policy(data: dict[str, Any]) -> DeployedPolicy:
    """Build the deployable policy from a loaded checkpoint (``rl.checkpoint.load_checkpoint``)."""
    from vbot_agent.rl.checkpoint import InferencePolicy

    source = InferencePolicy(data, "cpu")
    actor = source.model.actor
    for module in actor.modules():  # in-place activations do not belong in an exported graph
        if hasattr(module, "inplace"):
            module.inplace = False
    norm = source.normalizer
    std = torch.sqrt(norm.var + norm.eps)
    policy = DeployedPolicy(actor.float(), norm.mean, std, norm.clip, norm.enabled)
    return policy.eval()


def export_onnx(policy: DeployedPolicy, path: Path, obs_dim: int, metadata: dict[str, str]) -> float:
    """Write ``policy`` as ONNX (input ``obs`` [batch, obs_dim], output ``actions``), with
    ``metadata`` as the model's metadata_props. Returns seconds taken."""
    import onnx

    start = time.perf_counter()
    example = torch.zeros(1, obs_dim)
    tmp = path.with_name(f".{path.name}.tmp")
    with warnings.catch_warnings():  # the TorchScript-based exporter (dynamo=False) warns of its own deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(policy, (example,), str(tmp), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                          opset_version=ONNX_OPSET, dynamo=False)
    model = onnx.load(str(tmp))
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return time.perf_counter() - start


def export_torchscript(policy: DeployedPolicy, path: Path, obs_dim: int) -> float:
    """Write ``policy`` as a traced TorchScript module (``torch.jit.load(path)(obs)``). Returns seconds."""
    start = time.perf_counter()
    # torch 2.13 deprecates TorchScript, but it is still what libtorch (C++) deployments load.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        traced = torch.jit.trace(policy, torch.zeros(1, obs_dim))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    traced.save(str(tmp))
    tmp.replace(path)
    return time.perf_counter() - start


@torch.no_grad()
def torch_actions(policy: DeployedPolicy, obs: np.ndarray) -> np.ndarray:
    return policy(torch.as_tensor(obs, dtype=torch.float32)).numpy()


def onnx_actions(path: Path, obs: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run([OUTPUT_NAME], {INPUT_NAME: obs.astype(np.float32)})[0]


def random_observations(policy: DeployedPolicy, count: int, seed: int) -> np.ndarray:
    """``count`` observations drawn around the normaliser's statistics (mean +- 3 std, and beyond
    the clip for some rows) [count, O] float32."""
    rng = np.random.default_rng(seed)
    mean, std = policy.mean.numpy(), policy.std.numpy()
    z = rng.normal(0.0, 1.0, (count, mean.shape[0])) * np.where(rng.uniform(size=(count, 1)) < 0.1, 8.0, 1.5)
    return (mean + z * std).astype(np.float32)
