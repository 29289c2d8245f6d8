"""Checkpoint encoding and safety; evaluation statistics and competition points."""

from __future__ import annotations

import math
import struct
import zipfile

import numpy as np
import pytest
import torch

from vbot_agent.errors import UsageError
from vbot_agent.rl.checkpoint import decode_tree, encode_tree, load_checkpoint, save_checkpoint
from vbot_agent.rl.envs import make_env
from vbot_agent.rl.evaluate import evaluate, score_of, summarize_episodes


def test_env_state_round_trips_through_a_weights_only_checkpoint(tmp_path):
    state = {
        "physics": np.random.default_rng(0).normal(size=(3, 5)),
        "steps": np.arange(3, dtype=np.int64), "flags": np.array([True, False]),
        "empty": np.zeros((2, 0), np.float32), "rng": np.random.default_rng(5).bit_generator.state,
        "needs_reset": False, "scalar": np.float32(1.5),
    }
    save_checkpoint(tmp_path / "c.pt", {"env_state": encode_tree(state)})
    back = decode_tree(load_checkpoint(tmp_path / "c.pt")["env_state"])
    for key in ("physics", "steps", "flags", "empty"):
        assert back[key].dtype == state[key].dtype and np.array_equal(back[key], state[key])
    assert back["rng"] == state["rng"] and back["scalar"] == 1.5 and back["needs_reset"] is False


def test_load_refuses_missing_corrupt_and_foreign_files(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage")
    with pytest.raises(UsageError, match="unreadable: not a torch zip archive"):
        load_checkpoint(tmp_path / "junk.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(UsageError, match="unreadable: the file is empty"):
        load_checkpoint(tmp_path / "empty.pt")
    torch.save({"model": {}}, tmp_path / "other.pt")
    with pytest.raises(UsageError, match="not a vbot PPO checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    torch.save({"layer": torch.nn.Linear(2, 2)}, tmp_path / "pickled.pt")  # a module, not plain values
    with pytest.raises(UsageError, match="objects other than tensors") as refused:
        load_checkpoint(tmp_path / "pickled.pt")
    assert "weights_only" not in str(refused.value) and "Unpickler" not in str(refused.value)
    good = tmp_path / "good.pt"
    save_checkpoint(good, {"x": torch.zeros(256)})
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as archive:  # where the pickle's bytes start: after its local header
        info = next(i for i in archive.infolist() if i.filename.endswith("data.pkl"))
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    at = info.header_offset + 30 + name_len + extra_len + 2
    data[at] ^= 0xFF  # one flipped byte: the zip's checksum no longer matches
    flipped = tmp_path / "flipped.pt"
    flipped.write_bytes(bytes(data))
    with pytest.raises(UsageError, match="damaged"):
        load_checkpoint(flipped)
    good.write_bytes(good.read_bytes()[:40])  # truncated by a crash or a full disk
    with pytest.raises(UsageError, match="truncated by a crash"):
        load_checkpoint(good)


def test_summary_is_per_episode():
    ep = {
        "return": np.array([1.0, 3.0, -1.0, 5.0]), "length": np.array([10, 20, 5, 30]),
        "success": np.array([True, True, False, False]), "fall": np.array([False, False, True, False]),
        "time_to_target_s": np.array([2.0, 4.0, np.nan, np.nan]), "final_distance": np.array([0.1, 0.2, 3.0, 0.5]),
        "points": np.array([2, 2, 0, 1]),
    }
    res = summarize_episodes(ep)
    assert (res.episodes, res.success_rate, res.fall_rate, res.mean_return) == (4, 0.5, 0.25, 2.0)
    assert res.mean_time_to_target_s == 3.0  # over successful episodes only
    assert (res.competition_points, res.max_competition_points) == (5.0, 8)
    assert res.score == pytest.approx(0.5 - 0.125 - 1e-3 * 0.95)
    del ep["points"]  # fall back to the final distance: 0.1 and 0.2 -> 2 each, 0.5 -> 1, the fall -> 0
    assert summarize_episodes(ep).competition_points == 5.0
    assert score_of(math.nan, math.nan, 7.0, math.nan) == 7.0  # Gymnasium: rank by return


def test_evaluate_counts_each_env_once():
    env = make_env("dummy:point_nav", 5, seed=0, env={"episode_length_s": 0.5})
    res = evaluate(lambda obs: np.zeros((len(obs), 2), np.float32), env, seed=3)
    assert res.episodes == 5 and res.mean_length == 10 and res.success_rate == 0.0
    again = evaluate(lambda obs: np.zeros((len(obs), 2), np.float32), env, seed=3)
    assert again == res  # same seed, same episodes
