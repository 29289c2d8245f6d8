"""bf16 hidden layers: rollout and update agree exactly, outputs stay fp32 and close to fp32's; the
``auto`` rule picks what the measured update favours and caches it."""

from __future__ import annotations

import json

import pytest
import torch

from vbot_agent.config import from_mapping
from vbot_agent.errors import UsageError
from vbot_agent.rl import precision
from vbot_agent.rl.config import PolicyConfig
from vbot_agent.rl.networks import ActorCritic
from vbot_agent.rl.precision import PrecisionChoice, resolve_precision, update_shape


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


SHAPE = update_shape(63, 12, (128, 128, 64), (128, 128, 64), "elu", rows=6144)


def _timer(fp32_ms: float, bf16_ms: float):
    calls = []

    def measure(shape):
        calls.append(shape)
        return fp32_ms, bf16_ms

    return measure, calls


def test_auto_is_fp32_without_native_bf16_or_off_cpu(monkeypatch):
    measure, calls = _timer(10.0, 1.0)  # a timing that would pick bf16 is never consulted
    monkeypatch.setattr(precision, "bf16_matmuls_are_native", lambda: False)
    assert resolve_precision("auto", torch.device("cpu"), SHAPE, measure=measure).precision == "fp32"
    monkeypatch.setattr(precision, "bf16_matmuls_are_native", lambda: True)
    assert resolve_precision("auto", torch.device("cuda"), SHAPE, measure=measure).precision == "fp32"
    assert resolve_precision("bf16", torch.device("cpu"), SHAPE, measure=measure) == PrecisionChoice("bf16", "forced")
    assert resolve_precision("fp32", torch.device("cpu"), SHAPE, measure=measure).precision == "fp32"
    assert calls == []


@pytest.mark.parametrize(("fp32_ms", "bf16_ms", "expected"), [
    (10.0, 5.0, "bf16"),  # AMX: bf16 twice as fast
    (10.0, 12.0, "fp32"),  # AVX512-BF16 without AMX: the casts cost more than they save
    (10.0, 9.5, "fp32"),  # 5% is within noise; bf16 is kept only for a clear gain
])
def test_auto_follows_the_measured_update(monkeypatch, fp32_ms, bf16_ms, expected):
    monkeypatch.setattr(precision, "bf16_matmuls_are_native", lambda: True)
    measure, _ = _timer(fp32_ms, bf16_ms)
    choice = resolve_precision("auto", torch.device("cpu"), SHAPE, measure=measure)
    assert choice == PrecisionChoice(expected, "measured", fp32_ms, bf16_ms)


def test_the_measurement_is_cached_per_shape(monkeypatch, tmp_path):
    monkeypatch.setattr(precision, "bf16_matmuls_are_native", lambda: True)
    measure, calls = _timer(10.0, 5.0)
    first = resolve_precision("auto", torch.device("cpu"), SHAPE, measure=measure)
    again = resolve_precision("auto", torch.device("cpu"), SHAPE, measure=measure)
    assert (first.reason, again.reason, again.precision, len(calls)) == ("measured", "cached", "bf16", 1)
    assert again.fp32_ms == 10.0 and again.bf16_ms == 5.0
    other_rows = update_shape(63, 12, (128, 128, 64), (128, 128, 64), "elu", rows=64)
    resolve_precision("auto", torch.device("cpu"), other_rows, measure=measure)
    assert len(calls) == 2  # another minibatch size is another question
    huge = update_shape(63, 12, (128, 128, 64), (128, 128, 64), "elu", rows=10**6)
    assert huge.rows == precision.MAX_PROBE_ROWS  # timed at the cap: big minibatches share one answer
    data = json.loads((tmp_path / "vbot-cache" / precision.CACHE_FILE).read_text())
    assert data["version"] == precision.CACHE_VERSION and len(data["entries"]) == 2


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"version": 99, "entries": {}}',
                                     '{"version": 1, "entries": {"k": "v"}}'])
def test_a_broken_or_foreign_cache_is_measured_again_and_rewritten(monkeypatch, tmp_path, content):
    monkeypatch.setattr(precision, "bf16_matmuls_are_native", lambda: True)
    path = tmp_path / "vbot-cache" / precision.CACHE_FILE
    path.parent.mkdir(parents=True)
    path.write_text(content)
    measure, calls = _timer(10.0, 12.0)
    assert resolve_precision("auto", torch.device("cpu"), SHAPE, measure=measure).reason == "measured"
    assert resolve_precision("auto", torch.device("cpu"), SHAPE, measure=measure).reason == "cached"
    assert len(calls) == 1


def test_a_forged_cache_entry_with_a_bad_precision_is_not_used(monkeypatch, tmp_path):
    monkeypatch.setattr(precision, "bf16_matmuls_are_native", lambda: True)
    key = precision.cache_key(SHAPE)
    path = tmp_path / "vbot-cache" / precision.CACHE_FILE
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": precision.CACHE_VERSION, "entries": {key: {"precision": "fp16"}}}))
    measure, calls = _timer(10.0, 5.0)
    assert resolve_precision("auto", torch.device("cpu"), SHAPE, measure=measure).precision == "bf16"
    assert len(calls) == 1


def test_measuring_leaves_the_global_rng_and_threads_alone():
    tiny = update_shape(8, 2, (8,), (8,), "elu", rows=16)
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    threads = torch.get_num_threads()
    fp32_ms, bf16_ms = precision.measure_update(tiny, repeats=1)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
    assert fp32_ms > 0 and bf16_ms > 0


def test_unknown_precision_is_refused_with_the_choices():
    with pytest.raises(UsageError, match="'fp32', 'bf16'"):
        from_mapping(PolicyConfig, {"precision": "fp16"}, where="policy")
    with pytest.raises(ValueError, match="resolve 'auto'"):
        ActorCritic(4, 2, (8,), (8,), precision="auto")


def test_a_resumed_run_keeps_its_precision_whatever_the_machine_now_measures(monkeypatch, run_root,
                                                                               precision_cache):
    import shutil

    from tests.rl.conftest import tiny_config
    from vbot_agent.rl.checkpoint import load_checkpoint
    from vbot_agent.rl.loop import train
    from vbot_agent.rl.run_dir import create_run_dir
    from vbot_agent.rl.runner import OnPolicyRunner

    monkeypatch.setattr(precision, "bf16_matmuls_are_native", lambda: True)
    monkeypatch.setattr(precision, "measure_update", lambda shape: (10.0, 5.0))
    cfg = tiny_config(max_env_steps=8 * 8 * 4, check_point_interval=2)
    run_dir = create_run_dir(run_root, cfg.env_id)
    runner = OnPolicyRunner(cfg, run_dir)
    assert runner.precision == PrecisionChoice("bf16", "measured", 10.0, 5.0)
    train(runner)
    ckpt = load_checkpoint(run_dir / "checkpoints" / "model_2.pt")
    assert ckpt["precision"] == "bf16"
    shutil.rmtree(precision_cache)
    monkeypatch.setattr(precision, "measure_update", lambda shape: (5.0, 10.0))  # now fp32 would win
    resumed = OnPolicyRunner(cfg, run_dir, resume=ckpt)
    assert resumed.precision == PrecisionChoice("bf16", "checkpoint")
    assert resumed.alg.actor_critic.precision == "bf16"
    resumed.close()
    assert OnPolicyRunner(cfg, create_run_dir(run_root / "new", cfg.env_id)).precision.precision == "fp32"


def test_a_checkpoint_without_a_stored_precision_loads_with_the_rule(monkeypatch, run_root):
    """Checkpoints written before the precision was stored resolve ``auto`` as a new run would."""
    from tests.rl.conftest import tiny_config
    from vbot_agent.rl.checkpoint import InferencePolicy, load_checkpoint
    from vbot_agent.rl.loop import train
    from vbot_agent.rl.run_dir import create_run_dir
    from vbot_agent.rl.runner import OnPolicyRunner

    monkeypatch.setattr(precision, "bf16_matmuls_are_native", lambda: False)
    cfg = tiny_config()
    run_dir = create_run_dir(run_root, cfg.env_id)
    train(OnPolicyRunner(cfg, run_dir))
    data = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    assert InferencePolicy(data).model.precision == "fp32"
    monkeypatch.setattr(precision, "bf16_matmuls_are_native", lambda: True)
    monkeypatch.setattr(precision, "measure_update", lambda shape: (10.0, 5.0))
    assert InferencePolicy(data).model.precision == "fp32"  # stored: the precision it was trained in
    del data["precision"]
    assert InferencePolicy(data).model.precision == "bf16"  # older checkpoint: what auto picks here
