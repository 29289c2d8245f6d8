"""The reward library: presets load and audit as documented; `vbot reward ...` commands; archive never overwrites."""

import io
import json
import shutil
from pathlib import Path

import pytest
import yaml

from vbot_agent.cli import run
from vbot_agent.errors import UsageError
from vbot_agent.rewards import library as lib
from vbot_agent.sim.rewards import DEFAULT_SCALES

REPO = Path(__file__).resolve().parents[2]
LIBRARY = REPO / "starter_kit_schedule" / "reward_library"


@pytest.fixture
def workspace(tmp_path):
    shutil.copytree(LIBRARY, tmp_path / "starter_kit_schedule" / "reward_library")
    return tmp_path


def cli(args, monkeypatch):
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    code = run(args)
    return code, out.getvalue(), err.getvalue()


def test_presets_load_and_the_default_is_ours():
    presets = {p.name: p for p in lib.list_presets(REPO)}
    assert {"default", "lazy_robot", "sprint_and_crash", "reach_and_farm", "hover", "die_early"} <= set(presets)
    assert any(p.kind == "historical" for p in presets.values())
    assert {**DEFAULT_SCALES, **presets["default"].reward["scales"]} == DEFAULT_SCALES
    for p in presets.values():
        assert p.summary and p.description, p.name


def test_every_preset_audits_as_documented(workspace, monkeypatch):
    """The known-bad presets are flagged for their exploit; the default (and good references) pass."""
    code, out, _ = cli(["reward", "audit", "--preset", "all", "--json", "--workspace", str(workspace)], monkeypatch)
    assert code == 0
    result = json.loads(out)
    rows = {r["name"]: r for r in result["presets"]}
    assert rows["default"]["passed"]
    assert "lazy_robot" in rows["lazy_robot"]["flagged"]
    for name in ("sprint_and_crash", "reach_and_farm", "hover", "die_early"):
        assert name in rows[name]["flagged"], (name, rows[name]["flagged"])
    bad = {n: (r["expected"], r["flagged"]) for n, r in rows.items() if r["as_expected"] is False}
    assert not bad and result["all_as_expected"]
    assert result["elapsed_s"] < 10 * len(rows)


def test_list_show_and_unknown_names(workspace, monkeypatch):
    code, out, _ = cli(["reward", "list", "--workspace", str(workspace)], monkeypatch)
    assert code == 0 and "lazy_robot" in out and "exploit" in out
    code, out, _ = cli(["reward", "show", "lazy_robot", "--json", "--workspace", str(workspace)], monkeypatch)
    shown = json.loads(out)
    assert shown["resolved_scales"]["alive"] == 5.0 and shown["resolved_scales"]["arrival"] == 10.0
    kinds = {t["term"]: t["kind"] for t in shown["terms"]}
    assert kinds["alive"] == "rate" and kinds["arrival"] == "event"
    code, out, _ = cli(["reward", "show", "lazy_robot", "--workspace", str(workspace)], monkeypatch)
    rows = {line.split()[0]: line.split()[1:4] for line in out.splitlines() if line.split()}
    assert rows["alive"] == ["5", "per", "s"] and rows["arrival"] == ["10", "once", "1"]
    assert "alive 5 pays 0.05 per step, 5 per second" in out  # the 100 Hz step factor is named
    code, _, err = cli(["reward", "show", "lazy_robo", "--workspace", str(workspace)], monkeypatch)
    assert code == 2 and "did you mean lazy_robot" in err


def test_a_broken_preset_is_named(workspace):
    bad = workspace / "starter_kit_schedule" / "reward_library" / "typo.yaml"
    bad.write_text("name: typo\nkind: exploit\nsummary: s\nreward: {scales: {alvie: 1.0}}\n")
    with pytest.raises(UsageError, match="typo.yaml.*unknown reward term 'alvie'"):
        lib.list_presets(workspace)
    bad.write_text("name: other\nkind: exploit\nsummary: s\nreward: {scales: {}}\n")
    with pytest.raises(UsageError, match="must equal the file name"):
        lib.list_presets(workspace)


def test_audit_a_config_file_with_overrides(workspace, monkeypatch):
    config = workspace / "mine.yaml"
    config.write_text(yaml.safe_dump({"reward": {"scales": {"alive": 5.0}}, "ppo": {"learning_rate": 1e-3}}))
    args = ["reward", "audit", "--config", str(config), "--json", "--workspace", str(workspace)]
    code, out, _ = cli(args, monkeypatch)
    assert code == 0 and not json.loads(out)["passed"]
    code, out, _ = cli([*args, "--set", "reward.scales.alive=0"], monkeypatch)
    assert code == 0 and json.loads(out)["passed"]
    code, _, err = cli([*args, "--set", "ppo.gamma=0.9"], monkeypatch)
    assert code == 2 and "reward.* and env.* keys only" in err
    code, _, err = cli(["reward", "audit", "--config", str(config), "--preset", "default",
                        "--workspace", str(workspace)], monkeypatch)
    assert code == 2 and "give one of" in err


def test_archive_stores_outcome_and_metrics_and_never_overwrites(workspace, monkeypatch):
    run_dir = workspace / "runs" / "vbot_navigation_section001" / "2026-01-01_00-00-00_PPO"
    run_dir.mkdir(parents=True)
    meta = {"env_id": "vbot_navigation_section001",
            "config": {"reward": {"scales": {"alive": 5.0, "torques": -2e-05}}, "env": {"episode_length_s": 20.0}}}
    (run_dir / "experiment_meta.json").write_text(json.dumps(meta))
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(run_dir))
    for step, value in enumerate([0.0, 0.0, 0.01]):
        writer.add_scalar("metrics / success_rate", value, step * 1000)
    writer.close()
    args = ["reward", "archive", "--run", str(run_dir), "--outcome", "stood still for 5M steps",
            "--name", "lazy_try", "--audit", "--json", "--workspace", str(workspace)]
    code, out, err = cli(args, monkeypatch)
    assert code == 0, err
    result = json.loads(out)
    entry = yaml.safe_load(Path(result["archived"]).read_text())
    assert entry["outcome"] == "stood still for 5M steps" and entry["kind"] == "archived"
    assert entry["reward"]["scales"]["alive"] == 5.0 and entry["run"] == str(run_dir)
    assert entry["metrics"]["success_rate"] == pytest.approx(0.01) and entry["metrics"]["env_steps"] == 2000
    assert entry["audit"]["flagged"] == ["lazy_robot"]  # the run's JSON config, -2e-05 read as a number
    before = Path(result["archived"]).read_text()
    code, _, err = cli([*args[:-4], "--outcome", "other", "--json", "--workspace", str(workspace)], monkeypatch)
    assert code == 2 and "never overwritten" in err
    assert Path(result["archived"]).read_text() == before
    names = [p.name for p in lib.list_presets(workspace)]
    assert "lazy_try" in names
