"""Exact resume: N iterations straight == N/2, checkpoint, resume, N/2 (same seed, CPU)."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import replace

import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.rl.conftest import tiny_config
from vbot_agent.errors import VbotError
from vbot_agent.rl.checkpoint import load_checkpoint
from vbot_agent.rl.loop import train
from vbot_agent.rl.run_dir import create_run_dir
from vbot_agent.rl.runner import OnPolicyRunner


def _scalars(run_dir):
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _params(run_dir):
    return load_checkpoint(run_dir / "checkpoints" / "last.pt")["ppo"]["model"]


@pytest.mark.parametrize("final_noise_std", [None, 0.4], ids=["constant-noise", "annealed-noise"])
def test_resume_is_bit_exact(run_root, final_noise_std):
    cfg = tiny_config(max_env_steps=8 * 8 * 6, check_point_interval=3)
    cfg = replace(cfg, policy=replace(cfg.policy, final_noise_std=final_noise_std))
    straight = create_run_dir(run_root, cfg.env_id)
    train(OnPolicyRunner(cfg, straight))

    half = create_run_dir(run_root / "b", cfg.env_id)

    def stop_at_3(stats):  # what Ctrl-C / SIGTERM does: finish the iteration, save last.pt, stop
        if stats.iteration == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    stopped = train(OnPolicyRunner(cfg, half), stop_at_3)
    assert stopped.status == "stopped"
    ckpt = load_checkpoint(half / "checkpoints" / "last.pt")
    assert ckpt["iteration"] == 3
    # TensorBoard orders event files by name: <unix second>.<host>.<pid>.<counter>. A real resume is
    # a new process in a later second; in one test process, wait for the next second instead.
    time.sleep(1.05)
    result = train(OnPolicyRunner(cfg, half, resume=ckpt))
    assert result.iterations == 6

    p1, p2 = _params(straight), _params(half)
    assert p1.keys() == p2.keys()
    for key in p1:
        assert torch.equal(p1[key], p2[key]), key

    s1, s2 = _scalars(straight), _scalars(half)
    assert s1.keys() == s2.keys()
    for tag in s1:
        steps1, steps2 = [s for s, _ in s1[tag]], [s for s, _ in s2[tag]]
        assert steps1 == steps2, tag  # no gaps, no duplicates
        if not tag.startswith("Perf /"):  # wall-clock rates differ; everything else is identical
            assert [v for _, v in s1[tag]] == [v for _, v in s2[tag]], tag


def test_resume_after_crash_drops_events_past_the_checkpoint(run_root):
    """A process killed after its checkpoint logged more steps; the resumed run replaces them."""
    cfg = tiny_config(max_env_steps=8 * 8 * 4, check_point_interval=2)
    run_dir = create_run_dir(run_root, cfg.env_id)
    train(OnPolicyRunner(cfg, run_dir))  # checkpoints at 2 and 4; pretend it crashed after 4
    ckpt = load_checkpoint(run_dir / "checkpoints" / "model_2.pt")
    time.sleep(1.05)  # see above
    train(OnPolicyRunner(cfg, run_dir, resume=ckpt))
    steps = [s for s, _ in _scalars(run_dir)["Loss / surrogate"]]
    assert steps == [64, 128, 192, 256]


def test_nan_guard_stops_cleanly_and_keeps_the_last_good_checkpoint(run_root, monkeypatch):
    cfg = tiny_config(max_env_steps=8 * 8 * 6, check_point_interval=2)
    run_dir = create_run_dir(run_root, cfg.env_id)
    runner = OnPolicyRunner(cfg, run_dir)
    real_update = runner.alg.update

    def poisoned_update():
        out = real_update()
        if runner.iteration == 2:  # the third update blows up
            with torch.no_grad():
                runner.alg.actor_critic.log_std.fill_(float("nan"))
        return out

    monkeypatch.setattr(runner.alg, "update", poisoned_update)
    with pytest.raises(VbotError, match="NaN guard at iteration 3.*last good checkpoint"):
        train(runner)
    assert load_checkpoint(run_dir / "checkpoints" / "last.pt")["iteration"] == 2
    progress = json.loads((run_dir / "progress.json").read_text())
    assert progress["status"] == "failed" and "NaN guard" in progress["message"]
