"""The one atomic writer: whole files or nothing, no temp files left behind."""

import pytest

from vbot_agent.fileio import atomic_copy, atomic_write, atomic_write_json, atomic_write_text


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "state.yaml"
    atomic_write_text(target, "old\n")

    def half_then_fail(handle):
        handle.write(b"new but unfin")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, half_then_fail)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["state.yaml"]


def test_copy_and_json(tmp_path):
    source = tmp_path / "model.pt"
    source.write_bytes(bytes(range(256)) * 100)
    atomic_copy(source, tmp_path / "sub" / "best.pt")
    assert (tmp_path / "sub" / "best.pt").read_bytes() == source.read_bytes()
    atomic_write_json(tmp_path / "p.json", {"reward": float("nan"), "steps": 3})
    assert (tmp_path / "p.json").read_text() == '{\n  "reward": null,\n  "steps": 3\n}\n'
