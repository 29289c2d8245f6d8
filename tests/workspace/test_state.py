"""The state file: atomic, plain YAML, schema-checked; corruption named with the last good snapshot."""

import multiprocessing
import time

import numpy as np
import pytest
import yaml

from vbot_agent.errors import UsageError, VbotError
from vbot_agent.fileio import atomic_write_yaml, plain
from vbot_agent.workspace.state import StateWriter, load_state, new_state, validate_state


def _state(trials=0):
    settings = {"mode": "hp", "env_id": "dummy:point_nav", "budget_hours": 1.0}
    state = new_state(automl_id="automl_test", settings=settings, storage="sqlite:///x.db", study_name="automl_test",
                      score_formula="score = ...")
    state["trials"] = [{"number": i, "state": "complete", "params": {"ppo.learning_rate": 1e-3 * i},
                        "reward_scales": {"arrival": float(i)}, "metrics": {"success_rate": 0.5},
                        "score": 0.1 * i, "run_dir": f"runs/x/{i}", "error": None} for i in range(trials)]
    return state


def _paths(root):
    state = root / "starter_kit_schedule" / "progress" / "automl_state.yaml"
    snapshot = root / "starter_kit_log" / "automl_test" / "state.yaml"
    state.parent.mkdir(parents=True)
    return state, snapshot


def test_plain_converts_numpy_and_refuses_objects():
    assert plain({"a": np.float32(0.5), "b": (np.int64(3),), "c": float("nan")}) == {"a": 0.5, "b": [3], "c": None}
    assert type(plain(np.float64(1.0))) is float
    with pytest.raises(TypeError, match="x.y"):
        plain({"x": {"y": object()}})


def test_write_then_load_round_trips(tmp_path):
    path, snap = _paths(tmp_path)
    writer = StateWriter(path, snap, None)
    state = _state(3)
    state["elapsed_hours"] = np.float64(0.25)  # numpy scalars must not reach the file
    writer.write(state)
    loaded = load_state(path)
    assert loaded["trials"] == plain(state["trials"])
    assert loaded["elapsed_hours"] == 0.25 and "!!python" not in path.read_text()
    assert yaml.safe_load(snap.read_text()) == loaded


def test_corrupt_state_names_the_last_good_snapshot_and_is_not_overwritten(tmp_path):
    path, snap = _paths(tmp_path)
    StateWriter(path, snap, None).write(_state(2))
    broken = path.read_text().replace("trials:", "trials: [\n<<<<<<< HEAD", 1)
    path.write_text(broken)
    with pytest.raises(UsageError) as err:
        load_state(path)
    message = str(err.value)
    assert str(snap) in message and "cp " in message and "vbot automl --resume" in message
    assert "\n" not in message
    assert path.read_text() == broken  # nothing overwritten


def test_hand_edit_with_wrong_schema_is_refused(tmp_path):
    path, snap = _paths(tmp_path)
    StateWriter(path, snap, None).write(_state(1))
    data = yaml.safe_load(path.read_text())
    data["trials"][0]["state"] = "finished"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UsageError, match="trials\\[0\\].state"):
        load_state(path)
    data["schema_version"] = 99
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(UsageError, match="newer vbot"):
        load_state(path)


def test_missing_state_says_how_to_start(tmp_path):
    with pytest.raises(UsageError, match="vbot automl"):
        load_state(tmp_path / "nope.yaml")


def test_writer_refuses_to_overwrite_a_file_changed_under_it(tmp_path):
    path, snap = _paths(tmp_path)
    writer = StateWriter(path, snap, None)
    writer.write(_state(1))
    path.write_text("garbage: [")
    with pytest.raises(VbotError, match="not overwriting"):
        writer.write(_state(2))
    assert path.read_text() == "garbage: ["


def _writer_loop(path, snap, count):
    writer = StateWriter(path, snap, None)
    for i in range(count):
        writer.write(_state(i % 40))


def test_state_always_parses_while_being_written(tmp_path):
    path, snap = _paths(tmp_path)
    atomic_write_yaml(path, _state(0))
    ctx = multiprocessing.get_context("spawn")
    StateWriter.__module__  # noqa: B018 - make sure the class is importable in the child
    proc = ctx.Process(target=_writer_loop, args=(path, snap, 150))
    path.unlink()
    proc.start()
    reads = 0
    deadline = time.time() + 60
    while proc.is_alive() and time.time() < deadline:
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue
        data = yaml.safe_load(text)
        assert validate_state(data) is None
        reads += 1
    proc.join(10)
    assert proc.exitcode == 0
    assert reads > 20
