"""Reward diagnosis: every rule fires on a synthetic run with its pathology and stays quiet on a healthy one."""

import copy
import io
import json

import numpy as np
import pytest

from vbot_agent.errors import UsageError
from vbot_agent.rewards import diagnosis as rd
from vbot_agent.rewards import run_data
from vbot_agent.sim.rewards import DEFAULT_SCALES

POINTS = 50
STEPS = np.linspace(1e5, 5e6, POINTS).astype(int)


def ramp(a, b):
    return np.linspace(a, b, POINTS)


def healthy_series() -> dict[str, np.ndarray]:
    """A run that learns: success to 0.9, falls down, distance down, std shrinking gently."""
    s = {
        run_data.TAG_RETURN: ramp(0.0, 50.0),
        run_data.TAG_LENGTH: ramp(900, 1800),
        run_data.TAG_DISTANCE: ramp(5.5, 0.4),
        run_data.TAG_SUCCESS: ramp(0.0, 0.9),
        run_data.TAG_FALL: ramp(0.3, 0.02),
        run_data.TAG_STD: ramp(1.0, 0.4),
        "Loss / entropy": ramp(17.0, 5.0),
    }
    terms = {
        "progress": ramp(0.004, 0.01), "arrival": ramp(0.0005, 0.005), "hold": ramp(0.0, 0.012),
        "heading": ramp(0.0002, 0.002), "lin_vel_z": ramp(-0.002, -0.001), "ang_vel_xy": ramp(-0.001, -0.0005),
        "orientation": ramp(-0.001, -0.0002), "torques": ramp(-0.0005, -0.0003),
        "action_rate": ramp(-0.003, -0.001), "joint_limits": ramp(-0.0004, -0.0001),
        "feet_air_time": ramp(0.0001, 0.0005), "termination": ramp(-0.004, -0.0001),
    }
    s.update({run_data.TERM_TAG.format(k): v for k, v in terms.items()})
    return s


def healthy_config() -> dict:
    return {
        "env_id": "vbot_navigation_section001",
        "seed": 0,
        "ppo": {"learning_rate": 1e-3, "schedule": "linear", "entropy_coef": 0.005},
        "env": {"episode_length_s": 20.0, "reach_radius": 0.3,
                "spawn": {"layout": "random", "target_distance": [3.0, 8.0], "target_area_radius": 2.0,
                          "target_yaw": [-3.14159, 3.14159]}},
        "reward": {"scales": dict(DEFAULT_SCALES), "progress_speed_cap": 1.0},
    }


def write_run(folder, series, config, tb=True, steps=STEPS):
    """A run folder as the trainer writes it: experiment_meta.json and TensorBoard scalars."""
    folder.mkdir(parents=True)
    meta = {"env_id": config["env_id"], "seed": 0, "config": config,
            "env": {"obs_dim": 63, "action_dim": 12, "control_dt": 0.01, "max_episode_steps": 2000}}
    (folder / "experiment_meta.json").write_text(json.dumps(meta))
    if tb:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(folder))
        for tag, values in series.items():
            for step, value in zip(steps, values):
                writer.add_scalar(tag, float(value), int(step))
        writer.close()
    return folder


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    made = {}

    def make(name, change_series=None, change_config=None):
        series, config = healthy_series(), healthy_config()
        if change_series:
            change_series(series)
        if change_config:
            change_config(config)
        made[name] = run_data.load_run(write_run(root / "vbot_navigation_section001" / f"{name}_PPO", series, config))

    make("healthy")

    def dead(s):
        s[run_data.TAG_DISTANCE] = ramp(6.0, 5.8)
        s[run_data.TAG_SUCCESS] = ramp(0.0, 0.0)
        del s[run_data.TERM_TAG.format("progress")]

    make("dead_gradient", dead, lambda c: c["reward"]["scales"].update(progress=0.0))
    make("termination", lambda s: s.update({run_data.TERM_TAG.format("termination"): ramp(-0.08, -0.05)}),
         lambda c: c["reward"]["scales"].update(termination=-200.0))

    def collapse(s):
        s[run_data.TAG_STD] = ramp(1.0, 0.02)
        s[run_data.TAG_SUCCESS] = ramp(0.0, 0.1)

    make("std_collapse", collapse)
    make("untrained", None, lambda c: c["env"]["spawn"].update(target_area_radius=0.0))

    def lazy(s):
        s[run_data.TAG_LENGTH] = ramp(2000, 2000)
        s[run_data.TAG_DISTANCE] = ramp(5.5, 5.4)
        s[run_data.TAG_SUCCESS] = ramp(0.0, 0.0)
        s[run_data.TAG_FALL] = ramp(0.05, 0.0)
        s[run_data.TERM_TAG.format("alive")] = ramp(0.05, 0.05)

    make("lazy", lazy, lambda c: c["reward"]["scales"].update(alive=5.0))

    def sprint(s):
        s[run_data.TAG_FALL] = ramp(0.1, 0.7)
        s[run_data.TAG_LENGTH] = ramp(1500, 400)
        s[run_data.TAG_SUCCESS] = ramp(0.0, 0.2)

    make("sprint", sprint)
    make("farm", lambda s: s.update({run_data.TERM_TAG.format("entry"): ramp(0.01, 0.03)}),
         lambda c: c["reward"]["scales"].update(entry=10.0))

    def hover(s):
        s[run_data.TAG_DISTANCE] = ramp(5.5, 0.6)
        s[run_data.TAG_SUCCESS] = ramp(0.0, 0.05)

    make("hover", hover)

    def die(s):
        s[run_data.TAG_LENGTH] = ramp(1500, 150)
        s[run_data.TAG_FALL] = ramp(0.4, 0.95)
        s[run_data.TAG_SUCCESS] = ramp(0.0, 0.0)
        s[run_data.TERM_TAG.format("alive")] = ramp(-0.03, -0.03)

    make("die_early", die, lambda c: c["reward"]["scales"].update(alive=-3.0))
    make("never_fires", lambda s: s.update({run_data.TERM_TAG.format("arrival"): ramp(0.0, 0.0)}))

    def peaked(s):
        s[run_data.TAG_SUCCESS] = np.concatenate([np.linspace(0, 0.7, 25), np.linspace(0.7, 0.2, 25)])

    make("peaked", peaked)
    return made


CASES = [
    ("dead_gradient", "dead_gradient_at_distance"),
    ("termination", "termination_dominates"),
    ("std_collapse", "std_collapse"),
    ("untrained", "untrained_targets"),
    ("lazy", "lazy_robot"),
    ("sprint", "sprint_and_crash"),
    ("farm", "reach_and_farm"),
    ("hover", "hovering_near_target"),
    ("die_early", "die_early"),
    ("never_fires", "terms_never_fire"),
    ("peaked", "peaked_and_declined"),
]


def ids(diagnosis):
    return [f.id for f in diagnosis.findings]


def test_a_healthy_run_has_no_findings(runs):
    result = rd.diagnose(runs["healthy"])
    assert ids(result) == [] and result.missing_series == []


@pytest.mark.parametrize("run, rule", CASES)
def test_each_rule_fires_on_its_pathology(runs, run, rule):
    findings = {f.id: f for f in rd.diagnose(runs[run]).findings}
    assert rule in findings, f"{rule} did not fire on {run}: {list(findings)}"
    f = findings[rule]
    assert f.severity in ("high", "medium", "low") and f.evidence and f.cause and f.fix
    assert f.command.startswith("vbot ")
    from vbot_agent.actions.command_line import parse_command

    parse_command(f.command.split()[1:])  # the command to test the fix is a valid vbot command


def test_never_fire_names_the_silent_term(runs):
    f = next(f for f in rd.diagnose(runs["never_fires"]).findings if f.id == "terms_never_fire")
    assert f.evidence["never_fired"] == ["arrival"]


def test_unused_search_keys(runs):
    space = {"params": {"reward.scales.progres": {}, "reward.scales.arrival": {}, "reward.scales.entry": {},
                        "reward.hold_speeed": {}, "ppo.learning_rate": {}}}
    f = next(f for f in rd.diagnose(runs["healthy"], space).findings if f.id == "unused_search_keys")
    assert f.evidence["unknown_keys"] == ["reward.scales.progres", "reward.hold_speeed"]
    assert f.evidence["terms_off_in_this_run"] == ["reward.scales.entry"]
    good = {"params": {"reward.scales.progress": {}, "reward.progress_speed_cap": {}, "ppo.gamma": {}}}
    assert ids(rd.diagnose(runs["healthy"], good)) == []


def test_too_early_runs_get_config_rules_only(tmp_path):
    """A lazy-looking run after 50k steps is just young; a non-random target is wrong at any age."""
    series = healthy_series()
    series[run_data.TAG_SUCCESS] = ramp(0.0, 0.0)
    series[run_data.TAG_DISTANCE] = ramp(5.5, 5.5)
    config = healthy_config()
    config["env"]["spawn"]["target_area_radius"] = 0.0
    data = run_data.load_run(write_run(tmp_path / "young_PPO", series, config, steps=np.linspace(1e3, 5e4, POINTS)))
    result = rd.diagnose(data)
    assert ids(result) == ["untrained_targets"] and "did not run yet" in result.note
    assert next(f for f in result.findings if f.id == "untrained_targets").source == "config"


def test_penalties_that_never_apply_are_not_findings(runs):
    data = copy.copy(runs["healthy"])
    data.scalars = dict(data.scalars)
    data.scalars[run_data.TERM_TAG.format("joint_limits")] = run_data.Series(STEPS, np.zeros(POINTS))
    assert ids(rd.diagnose(data)) == []


def test_rollout_metrics_take_precedence(runs):
    data = copy.copy(runs["healthy"])
    data.rollout = {"success_rate": 0.0, "fall_rate": 0.0, "mean_final_distance_m": 0.55}
    assert "hovering_near_target" in ids(rd.diagnose(data))


def test_bad_runs_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="run 'nope' not found"):
        run_data.resolve_run("nope", [tmp_path / "runs"])
    with pytest.raises(UsageError, match="no run with TensorBoard data"):
        run_data.resolve_run("latest", [tmp_path / "runs"])
    empty = write_run(tmp_path / "runs" / "e" / "x_PPO", {}, healthy_config(), tb=False)
    with pytest.raises(UsageError, match="no TensorBoard data"):
        run_data.load_run(empty)
    (tmp_path / "notarun").mkdir()
    with pytest.raises(UsageError, match="not a training run"):
        run_data.load_run(tmp_path / "notarun")


def test_cli_json_and_latest(runs, tmp_path, monkeypatch):
    from vbot_agent.cli import run

    root = runs["healthy"].run_dir.parent.parent  # the runs/ folder
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    assert run(["diagnose-reward", str(runs["lazy"].run_dir), "--json"]) == 0
    result = json.loads(out.getvalue())
    assert "lazy_robot" in [f["id"] for f in result["findings"]]
    assert set(result["findings"][0]) >= {"id", "severity", "evidence", "cause", "fix", "command"}
    assert run_data.resolve_run("latest", [root]).parent == root / "vbot_navigation_section001"
    monkeypatch.chdir(tmp_path)
    assert run(["diagnose-reward", "missing_run"]) == 2
    assert "not found" in err.getvalue()


# ----------------------------------------------------------------- evidence, sources and test commands


def _sets(command):
    words = command.split()
    return [words[i + 1] for i, w in enumerate(words) if w == "--set"]


@pytest.mark.parametrize("run, rule", CASES)
def test_findings_print_numbers_and_their_test_changes_the_config(runs, run, rule):
    """No `ratio=None`; every --set of a suggested test differs from what the run already has."""
    import yaml

    from vbot_agent.rewards.findings import current_value
    from vbot_agent.rewards.log_rules import is_finite_evidence

    data = runs[run]
    for f in rd.diagnose(data).findings:
        assert is_finite_evidence(f.evidence), f"{f.id}: evidence with None/NaN: {f.evidence}"
        assert f.source in ("config", "logs", "config+logs", "logs+config")
        for assignment in _sets(f.command):
            key, value = assignment.split("=", 1)
            assert current_value(data, key) != yaml.safe_load(value), f"{f.id}: {assignment} changes nothing"


def test_termination_fix_changes_the_default_termination(runs):
    """The default reward has termination -10 = -arrival: the fix used to set it to -10 again."""
    series = healthy_series()
    series[rd.TERM_TAG.format("termination")] = ramp(-0.08, -0.05)
    data = copy.copy(runs["healthy"])
    data.scalars = {**data.scalars, rd.TERM_TAG.format("termination"): rd.Series(STEPS, ramp(-0.08, -0.05))}
    assert data.scales["termination"] == -10.0 and data.scales["arrival"] == 10.0
    f = next(f for f in rd.diagnose(data).findings if f.id == "termination_dominates")
    assert _sets(f.command) == ["reward.scales.termination=-5.0"]
    assert f.evidence["ratio"] > 1.0


def test_termination_rule_waits_for_a_trained_policy(tmp_path):
    """At 300k steps an untrained policy falls a lot: that is not a finding (it printed ratio=None)."""
    series = healthy_series()
    for name in ("progress", "arrival", "hold", "heading", "feet_air_time"):
        series[rd.TERM_TAG.format(name)] = ramp(0.0, 0.0)
    series[rd.TERM_TAG.format("termination")] = ramp(-0.05, -0.05)
    data = rd.load_run(write_run(tmp_path / "probe_PPO", series, healthy_config(),
                                 steps=np.linspace(6e3, 3e5, POINTS)))
    assert "termination_dominates" not in ids(rd.diagnose(data))


def lazy_probe_series():
    """What the lazy_robot preset logs in a 300k-step probe: the return climbs on the alive bonus alone."""
    s = healthy_series()
    s[rd.TAG_RETURN] = ramp(2.3, 54.5)
    s[rd.TAG_LENGTH] = ramp(2000, 2000)
    s[rd.TAG_DISTANCE] = ramp(5.49, 5.44)
    s[rd.TAG_SUCCESS] = ramp(0.0, 0.0)
    s[rd.TAG_FALL] = ramp(0.0, 0.0)
    for name in ("progress", "arrival", "hold", "feet_air_time"):
        s[rd.TERM_TAG.format(name)] = ramp(0.0, 0.0)
    s[rd.TERM_TAG.format("heading")] = ramp(0.0, 1e-8)
    s[rd.TERM_TAG.format("alive")] = ramp(0.05, 0.05)
    return s


def test_lazy_robot_is_found_in_a_short_probe(tmp_path):
    """Return rising, success 0, distance flat, alive paying everything: found at 300k steps."""
    config = healthy_config()
    config["reward"]["scales"]["alive"] = 5.0
    data = rd.load_run(write_run(tmp_path / "lazy_probe_PPO", lazy_probe_series(), config,
                                 steps=np.linspace(6e3, 3e5, POINTS)))
    findings = {f.id: f for f in rd.diagnose(data).findings}
    assert {"lazy_robot", "standing_dominance"} <= set(findings)
    assert findings["standing_dominance"].evidence["survival_share"] > 0.9
    assert _sets(findings["lazy_robot"].command) == ["reward.scales.alive=0.0"]


def test_a_young_healthy_run_learning_to_stand_is_not_lazy(tmp_path):
    """Early on the return rises as falls get rarer, with the distance still flat: no alive, no finding."""
    series = healthy_series()
    series[rd.TAG_RETURN] = ramp(-8.0, 2.0)
    series[rd.TAG_DISTANCE] = ramp(5.5, 5.4)
    series[rd.TAG_SUCCESS] = ramp(0.0, 0.0)
    data = rd.load_run(write_run(tmp_path / "young_PPO", series, healthy_config(),
                                 steps=np.linspace(6e3, 3e5, POINTS)))
    assert not {"lazy_robot", "standing_dominance"} & set(ids(rd.diagnose(data)))


def test_audit_flags_become_config_findings_merged_with_log_findings(runs):
    flag = {"behaviour": "reach_and_farm", "exploit": "reach_and_farm", "reason": "reach_and_farm earns 159 >= 36",
            "return": 159.0, "right_return": 36.0, "gap": -123.0, "required_gap": 3.6,
            "terms": {"entry": {"wrong": 150.0, "right": 10.0}, "hold": {"wrong": 1.0, "right": 8.0}}}
    audit = {"passed": False, "flags": [flag]}
    result = rd.diagnose(runs["healthy"], audit=audit)
    f = next(f for f in result.findings if f.id == "reach_and_farm")
    assert f.source == "config" and f.evidence["behaviour_return"] == 159.0
    assert result.audit == {"passed": False, "flagged": ["reach_and_farm"]}
    merged = next(f for f in rd.diagnose(runs["farm"], audit=audit).findings if f.id == "reach_and_farm")
    assert merged.source == "logs+config" and merged.evidence["audit"]["exploit"] == "reach_and_farm"
    assert "159" in merged.cause


@pytest.mark.slow
@pytest.mark.parametrize("preset", ["lazy_robot", "reach_and_farm", "hover", "sprint_and_crash", "die_early"])
def test_diagnosis_reports_every_exploit_the_audit_flags(tmp_path, monkeypatch, preset):
    """`vbot diagnose-reward RUN` names each exploit `vbot reward audit --run RUN` flags, on a young run."""
    from vbot_agent.cli import run
    from vbot_agent.rewards.config_rules import EXPLOIT_IDS
    from vbot_agent.rewards.library import load_preset
    from vbot_agent.workspace.init import SEED_DIR

    p = load_preset(SEED_DIR / "reward_library" / f"{preset}.yaml")
    config = healthy_config()
    config["reward"] = {"scales": {**DEFAULT_SCALES, **p.reward["scales"]},
                        **{k: v for k, v in p.reward.items() if k != "scales"}}
    folder = write_run(tmp_path / "runs" / "vbot_navigation_section001" / f"{preset}_PPO", healthy_series(),
                       config, steps=np.linspace(6e3, 3e5, POINTS))
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    assert run(["reward", "audit", "--run", str(folder), "--json"]) == 0
    flagged = {f["exploit"] for f in json.loads(out.getvalue())["flags"]}
    assert set(p.expect) <= flagged
    out.truncate(0), out.seek(0)
    assert run(["diagnose-reward", str(folder), "--json"]) == 0
    result = json.loads(out.getvalue())
    assert {EXPLOIT_IDS[e] for e in flagged} <= {f["id"] for f in result["findings"]}
    assert result["audit"]["flagged"] == sorted(flagged)


def test_a_share_of_almost_nothing_is_not_standing_dominance(tmp_path):
    """reach_and_farm probe: heading pays 1e-8 per step and nothing else pays yet; 100% of ~0 is no finding."""
    series = lazy_probe_series()
    series[rd.TERM_TAG.format("alive")] = ramp(0.0, 0.0)
    series[rd.TAG_RETURN] = ramp(-3.0, -0.5)
    data = rd.load_run(write_run(tmp_path / "farm_probe_PPO", series, healthy_config(),
                                 steps=np.linspace(6e3, 3e5, POINTS)))
    assert "standing_dominance" not in ids(rd.diagnose(data))


def test_the_cli_prints_the_diagnosis_with_its_audit_line_and_sources():
    from vbot_agent.actions import REGISTRY
    from vbot_agent.rewards.diagnosis import render_diagnosis

    result = {"run": "runs/x/y", "env_id": "vbot_navigation_section001", "env_steps": 300_000, "note": None,
              "audit": {"passed": False, "flagged": ["lazy_robot"]}, "rollout": None, "missing_series": [],
              "findings": [{"severity": "high", "id": "standing_dominance", "source": "logs", "title": "t",
                            "evidence": {"survival_share": 1.0}, "cause": "c", "fix": "f", "command": "vbot x"}]}
    text = REGISTRY.get("diagnose-reward").load_render()(result)
    assert text == render_diagnosis(result)
    assert "reward audit of the run's config: flagged lazy_robot" in text and "(from logs)" in text


def test_one_lucky_training_window_is_not_a_peak(tmp_path):
    """A course run whose training success is 0 but for one logging window where one of two ended
    episodes succeeded: smoothed over the window the last value uses, nothing peaked or declined."""
    series = healthy_series()
    spike = np.zeros(POINTS)
    spike[10] = 0.5
    series[run_data.TAG_SUCCESS] = spike
    series[run_data.TAG_RETURN] = ramp(-20.0, -20.0)
    data = run_data.load_run(write_run(tmp_path / "vbot_navigation_section001" / "spike_PPO", series, healthy_config()))
    assert "peaked_and_declined" not in ids(rd.diagnose(data))


def test_a_peak_without_best_pt_keeps_the_periodic_checkpoint_nearest_it(runs):
    data = runs["peaked"]
    per_iteration = 1024 * 24
    folder = data.run_dir / "checkpoints"
    folder.mkdir(exist_ok=True)
    for it in (10, 40, 80):
        (folder / f"model_{it}.pt").write_bytes(b"")
    data.config.update(num_envs=1024, ppo={**data.config["ppo"], "num_steps_per_env": 24})
    f = next(f for f in rd.diagnose(data).findings if f.id == "peaked_and_declined")
    nearest = min((10, 40, 80), key=lambda it: abs(it * per_iteration - f.evidence["peak_at_env_steps"]))
    assert f.command.endswith(f"checkpoints/model_{nearest}.pt") and "no best.pt" in f.fix
    assert "the linear schedule" not in f.fix  # the run already used it
    (folder / "best.pt").write_bytes(b"")
    f = next(f for f in rd.diagnose(data).findings if f.id == "peaked_and_declined")
    assert f.command.endswith("checkpoints/best.pt") and "none holds the peak" not in f.fix
    for old in folder.glob("model_*.pt"):  # the first checkpoint now comes after the peak: none holds it
        old.unlink()
    later = f.evidence["peak_at_env_steps"] // per_iteration + 10
    (folder / f"model_{later}.pt").write_bytes(b"")
    f = next(f for f in rd.diagnose(data).findings if f.id == "peaked_and_declined")
    assert f"no checkpoint was saved before {later * per_iteration:,} env steps" in f.fix


def test_reward_show_of_a_run_lists_its_scales_and_what_each_term_paid(tmp_path, monkeypatch):
    """`vbot reward show --run RUN`: the run's own scales (not a preset's), each term's per-step
    value at the end, and the terms that never paid."""
    from vbot_agent.cli import run

    series = healthy_series()
    series[run_data.TERM_TAG.format("arrival")] = np.zeros(POINTS)
    late = series[run_data.TERM_TAG.format("termination")].copy()
    late[-POINTS // 5:] = 0.0  # falls stopped: the penalty paid earlier, not at the end
    series[run_data.TERM_TAG.format("termination")] = late
    config = healthy_config()
    config["reward"]["scales"]["alive"] = 5.0
    folder = write_run(tmp_path / "runs" / "vbot_navigation_section001" / "shown_PPO", series, config)
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    assert run(["reward", "show", "--run", str(folder)]) == 0
    rows = {line.split()[0]: line for line in out.getvalue().splitlines()}
    assert "never paid" in rows["arrival"] and rows["arrival"].split()[1] == "10"
    assert "0, paid earlier" in rows["termination"]
    assert rows["alive"].split()[1:5] == ["5", "per", "s", "not"]  # on in this run; no series was logged for it
    assert rows["arrival"].split()[2] == "once" and "scale x value x 0.01 s on every 100 Hz step" in out.getvalue()
    assert float(rows["hold"].split()[4]) == pytest.approx(healthy_series()[run_data.TERM_TAG.format("hold")][-1],
                                                           rel=0.2)
    assert run(["reward", "show"]) == 2


def test_points_on_the_training_terrain_are_not_a_term_that_never_fires(tmp_path):
    """The training terrain scores no competition points, so its zero `points` series is no finding;
    on a course the same zeros are one."""
    from vbot_agent.rewards.log_rules import rule_terms_never_fire

    def run(env_id):
        series = healthy_series()
        series[run_data.TERM_TAG.format("points")] = np.zeros(POINTS)
        config = healthy_config()
        config["env_id"] = env_id
        config["reward"]["scales"]["points"] = 1.0
        return run_data.load_run(write_run(tmp_path / env_id / "x_PPO", series, config))

    assert rule_terms_never_fire(run("vbot_navigation_terrain")) is None
    assert rule_terms_never_fire(run("vbot_navigation_section011")).evidence["never_fired"] == ["points"]
