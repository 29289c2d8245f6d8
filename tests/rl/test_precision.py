"""bf16 hidden layers: rollout and update agree exactly, outputs stay fp32 and close to fp32's."""

from __future__ import annotations

import pytest
import torch

from vbot_agent.config import from_mapping
from vbot_agent.errors import UsageError
from vbot_agent.rl import networks
from vbot_agent.rl.config import PolicyConfig
from vbot_agent.rl.networks import ActorCritic, resolve_precision


def _pair() -> tuple[ActorCritic, ActorCritic]:
    torch.manual_seed(0)
    fp32 = ActorCritic(63, 12, (128, 128, 64), (128, 128, 64), precision="fp32")
    bf16 = ActorCritic(63, 12, (128, 128, 64), (128, 128, 64), precision="bf16")
    bf16.load_state_dict(fp32.state_dict())
    with torch.no_grad():  # a trained-looking policy: means far from zero
        for model in (fp32, bf16):
            model.actor[-1].weight.mul_(100.0)
    return fp32, bf16


def test_bf16_rollout_and_minibatch_give_the_same_log_probs():
    _, model = _pair()
    obs = torch.randn(1024, 63)
    with torch.no_grad():
        actions, log_probs, mean, _ = model.act(obs, torch.Generator().manual_seed(3))
        values = model.value(obs)
    rows = torch.randperm(1024)[:300]
    new_log_probs, _, new_values, new_mean, _ = model.evaluate(obs.index_select(0, rows), actions.index_select(0, rows))
    # Bit-equal, so the first minibatch's PPO ratio is exactly 1.
    assert torch.equal(new_mean, mean[rows])
    assert torch.equal(new_log_probs, log_probs[rows])
    assert torch.equal(new_values, values[rows])


def test_bf16_outputs_are_fp32_close_to_fp32_and_train():
    fp32, bf16 = _pair()
    obs = torch.randn(512, 63)
    mean32, mean16 = fp32.act_inference(obs), bf16.act_inference(obs)
    value32, value16 = fp32.value(obs), bf16.value(obs)
    assert mean16.dtype == value16.dtype == torch.float32
    assert not torch.equal(mean16, mean32)  # the hidden layers did run in bf16
    assert (mean16 - mean32).norm() / mean32.norm() < 2e-2
    assert (value16 - value32).norm() / value32.norm() < 2e-2
    log_prob, entropy, value, _, _ = bf16.evaluate(obs, mean32.detach())
    (value.square().mean() - log_prob.mean() - entropy.mean()).backward()
    grads = [p.grad for p in bf16.parameters()]
    assert all(g is not None and g.dtype == torch.float32 and torch.isfinite(g).all() for g in grads)


def test_auto_precision_follows_the_hardware(monkeypatch):
    monkeypatch.setattr(networks, "bf16_matmuls_are_native", lambda: True)
    assert resolve_precision("auto", torch.device("cpu")) == "bf16"
    assert resolve_precision("auto", torch.device("cuda")) == "fp32"
    assert resolve_precision("fp32", torch.device("cpu")) == "fp32"
    monkeypatch.setattr(networks, "bf16_matmuls_are_native", lambda: False)
    assert resolve_precision("auto", torch.device("cpu")) == "fp32"
    assert resolve_precision("bf16", torch.device("cpu")) == "bf16"


def test_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(UsageError, match="'fp32', 'bf16'"):
        from_mapping(PolicyConfig, {"precision": "fp16"}, where="policy")
    with pytest.raises(ValueError, match="resolve 'auto'"):
        ActorCritic(4, 2, (8,), (8,), precision="auto")
