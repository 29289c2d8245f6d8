"""The functions behind ``vbot reward audit|list|show|archive`` and ``diagnose-reward``: ``fn(ctx, **params) -> dict``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError

DEFAULT_ENV = "vbot_navigation_section001"


# ------------------------------------------------------------------------- where a config comes from


def _runs_roots(ctx) -> list[Path]:
    from vbot_agent.workspace import Paths

    try:
        return [Paths(ctx.workspace()).runs]
    except UsageError:
        if ctx.workspace_override:
            raise
        return [ctx.cwd / "runs"]


def _config_from_file(path: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(reward mapping, env mapping or None) from a YAML config, a library preset or experiment_meta.json."""
    if str(path).endswith(".json"):
        data = _load_json(path)
    else:
        from vbot_agent.config import load_yaml

        data = load_yaml(path)
    if isinstance(data.get("config"), dict) and "reward" in data["config"]:  # a run's experiment_meta.json
        data = data["config"]
    if "reward" not in data:
        raise UsageError(f"{path}: no reward: section (expected reward: with scales:, as in "
                         "starter_kit_schedule/templates/reward_config.yaml)")
    if not isinstance(data["reward"], dict):
        raise UsageError(f"{path}: reward: must be a mapping")
    env = data.get("env")
    return data["reward"], env if isinstance(env, dict) else None


def _load_json(path: str) -> dict[str, Any]:
    """JSON read as JSON: YAML 1.1 would read ``-2e-05`` as text."""
    import json

    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise UsageError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object")
    return data


def _config_from_run(ctx, run: str) -> tuple[dict[str, Any], dict[str, Any] | None, str, Path]:
    from vbot_agent.rewards.run_data import META_FILE, resolve_run

    run_dir = resolve_run(run, _runs_roots(ctx))
    meta_path = run_dir / META_FILE
    if not meta_path.is_file():
        raise UsageError(f"{run_dir} is not a training run: no {META_FILE} in it")
    reward, env = _config_from_file(str(meta_path))
    import json

    env_id = json.loads(meta_path.read_text()).get("env_id") or DEFAULT_ENV
    return reward, env, env_id, run_dir


def _apply_sets(reward: Any, env: Any, overrides: list[str]) -> tuple[Any, Any]:
    """``--set reward.scales.alive=0 --set env.episode_length_s=10`` on top of the chosen config."""
    if not overrides:
        return reward, env
    from dataclasses import field, make_dataclass

    from vbot_agent.config import apply_overrides, to_dict
    from vbot_agent.sim.navigation import NavConfig
    from vbot_agent.sim.rewards import RewardConfig

    # Real type objects as annotations (this module's are strings), so the config layer can read them.
    AuditInput = make_dataclass("AuditInput", [("reward", RewardConfig, field(default_factory=RewardConfig)),
                                               ("env", NavConfig, field(default_factory=NavConfig))], frozen=True)

    for text in overrides:
        if not text.split("=", 1)[0].strip().startswith(("reward.", "env.")):
            raise UsageError(f"--set {text!r}: the audit takes reward.* and env.* keys only")
    base = {"reward": reward or {}, "env": env or {}}
    merged = apply_overrides(AuditInput, base, overrides)
    return to_dict(merged.reward), to_dict(merged.env)


# ------------------------------------------------------------------------- reward audit


def reward_audit(ctx, env: str | None, config: str | None, preset: str | None, run: str | None,
                 overrides: list[str], distance: float | None) -> dict[str, Any]:
    from vbot_agent.rewards.audit import audit_many

    chosen = [name for name, value in (("--config", config), ("--preset", preset), ("--run", run)) if value]
    if len(chosen) > 1:
        raise UsageError(f"give one of --config, --preset, --run, not {' and '.join(chosen)}")
    if preset == "all":
        if overrides:
            raise UsageError("--set applies to one config; audit presets one by one to change them")
        return _audit_all_presets(ctx, env, distance)
    label, env_options, reward = "the default config", None, None
    env_id = env
    if config:
        reward, env_options = _config_from_file(config)
        label = config
    elif preset:
        from vbot_agent.rewards.library import get_preset

        p = get_preset(ctx.workspace(), preset)
        reward, env_options, label = p.reward, p.env, f"preset {p.name}"
    elif run:
        reward, env_options, run_env, run_dir = _config_from_run(ctx, run)
        env_id = env or run_env
        label = f"run {run_dir}"
    reward, env_options = _apply_sets(reward, env_options, overrides)
    if overrides:
        label += " with " + " ".join(overrides)
    result = audit_many(env_id or DEFAULT_ENV, [reward], env_config=env_options, distance=distance)[0]
    result["config"] = label
    return result


def _audit_all_presets(ctx, env: str | None, distance: float | None) -> dict[str, Any]:
    from vbot_agent.rewards.audit import audit_many
    from vbot_agent.rewards.library import list_presets

    started = time.perf_counter()
    presets = list_presets(ctx.workspace())
    groups: dict[str, list] = {}
    for p in presets:
        groups.setdefault(repr(p.env), []).append(p)
    rows = []
    for members in groups.values():
        results = audit_many(env or DEFAULT_ENV, [p.reward for p in members], env_config=members[0].env,
                             distance=distance)
        for p, r in zip(members, results):
            flagged = sorted({f["exploit"] for f in r["flags"]})
            expected = sorted(p.expect)
            as_expected = None if p.kind == "archived" else (
                set(expected) <= set(flagged) and (bool(expected) or not flagged))
            rows.append({"name": p.name, "kind": p.kind, "passed": r["passed"], "flagged": flagged,
                         "expected": expected or "pass", "as_expected": as_expected,
                         "walk_and_stop": r["behaviours"]["walk_and_stop"]["return"],
                         "returns": {b: v["return"] for b, v in r["behaviours"].items()},
                         "flags": r["flags"]})
    return {"env": env or DEFAULT_ENV, "presets": rows, "elapsed_s": round(time.perf_counter() - started, 3),
            "all_as_expected": all(r["as_expected"] is not False for r in rows)}


def render_reward_audit(result: dict[str, Any]) -> str:
    if "presets" not in result:
        from vbot_agent.rewards.audit import render_audit

        return render_audit(result)
    lines = [f"reward audit of every preset on {result['env']} ({result['elapsed_s']} s)", ""]
    width = max(len(r["name"]) for r in result["presets"]) + 2
    names = list(result["presets"][0]["returns"]) if result["presets"] else []
    short = {"walk_and_stop": "walk", "stand_still": "stand", "hover_at_edge": "hover",
             "reach_and_farm": "farm", "sprint_and_fall": "sprint", "fall_at_once": "fall"}
    lines.append(f"{'preset':<{width}}{'kind':<11}" + "".join(f"{short.get(n, n):>8}" for n in names)
                 + "  verdict")
    for r in result["presets"]:
        verdict = "pass" if r["passed"] else "FLAGGED " + ",".join(r["flagged"])
        mark = {True: "", False: "  (UNEXPECTED: expected " + str(r["expected"]) + ")", None: ""}[r["as_expected"]]
        lines.append(f"{r['name']:<{width}}{r['kind']:<11}" + "".join(f"{r['returns'][n]:>8.1f}" for n in names)
                     + f"  {verdict}{mark}")
    return "\n".join(lines)


# ------------------------------------------------------------------------- library


def reward_list(ctx) -> dict[str, Any]:
    from vbot_agent.rewards.library import list_presets

    return {"presets": [p.listing() for p in list_presets(ctx.workspace())]}


def render_reward_list(result: dict[str, Any]) -> str:
    if not result["presets"]:
        return "no presets"
    width = max(len(p["name"]) for p in result["presets"]) + 2
    return "\n".join(f"{p['name']:<{width}}{p['kind']:<11}{p['summary']}" for p in result["presets"])


def reward_show(ctx, name: str | None = None, run: str | None = None) -> dict[str, Any]:
    """A preset's reward (``name``), or the reward a training run used (``run``) with what each of
    its terms paid per step at the end of the run (its TensorBoard series)."""
    from vbot_agent.config import from_mapping, to_dict
    from vbot_agent.rewards.library import get_preset
    from vbot_agent.sim.rewards import COURSE_SCALES, TERMS, RewardConfig

    if (name is None) == (run is None):
        raise UsageError("give a preset NAME (`vbot reward list`) or --run RUN, one of the two")
    if run is not None:
        from vbot_agent.rewards.run_data import load_run

        data = load_run(_config_from_run(ctx, run)[3])
        terms = []
        for term, t in TERMS.items():
            series = data.term(term)
            terms.append({"term": term, "kind": t.kind, "scale": float(data.scales.get(term, 0.0)), "pays": t.doc,
                          "per_step_last": None if series is None else series.last,
                          "never_paid": None if series is None else bool(not series.values.any())})
        return {"run": str(data.run_dir), "env_id": data.env_id, "env_steps": data.env_steps, "terms": terms}
    p = get_preset(ctx.workspace(), name)
    resolved = to_dict(from_mapping(RewardConfig, p.reward, where="reward"))
    terms = [{"term": term, "kind": t.kind, "scale": float(resolved["scales"].get(term, 0.0)), "pays": t.doc,
              "course_default": COURSE_SCALES.get(term)} for term, t in TERMS.items()]
    return {**p.listing(), "description": p.description, "reward": p.reward, "env": p.env,
            "resolved_scales": resolved["scales"], "terms": terms, **p.extra}


KIND_SHOWN = {"rate": "per s", "event": "once"}


def _kinds_note() -> str:
    from vbot_agent.sim.nav_config import CONTROL_DT

    return (f"per s: a rate, scale x value x {CONTROL_DT:g} s on every {1 / CONTROL_DT:g} Hz step (alive 5 pays "
            f"{5 * CONTROL_DT:g} per step, 5 per second); once: scale x value on the step it happens")


def render_reward_show(result: dict[str, Any]) -> str:
    """One line per term: its scale, how it is paid, what it pays and, for a run, its per-step value
    at the end."""
    if "run" in result:
        lines = [f"reward of run {result['run']} ({result['env_id']}, {result['env_steps']:,} env steps logged)",
                 f"{'term':<15}{'scale':>9}  {'paid':<6} {'per step at the end':>20}  pays"]
        for t in result["terms"]:
            if not t["scale"]:
                continue
            paid = ("not logged" if t["per_step_last"] is None else "never paid" if t["never_paid"]
                    else "0, paid earlier" if t["per_step_last"] == 0 else f"{t['per_step_last']:+.4g}")
            lines.append(f"{t['term']:<15}{t['scale']:>9g}  {KIND_SHOWN[t['kind']]:<6} {paid:>20}  {t['pays']}")
        off = [t["term"] for t in result["terms"] if not t["scale"]]
        lines.append("scale 0 (off): " + ", ".join(off) if off else "every term is on")
        lines.append(_kinds_note())
        lines.append("per step at the end: the scaled term's mean per env step over the last 10% of the run's logs")
        return "\n".join(lines)
    lines = [f"{result['name']} ({result['kind']}, audit expected to {result['expect']}): {result['summary']}",
             f"file: {result['path']}", "", str(result["description"]).strip(), "",
             f"{'term':<15}{'scale':>9}  {'paid':<6} pays"]
    for t in result["terms"]:
        course = (f"  (on a course or the training terrain, when not set: {t['course_default']:g})"
                  if t["course_default"] is not None else "")
        lines.append(f"{t['term']:<15}{t['scale']:>9g}  {KIND_SHOWN[t['kind']]:<6} {t['pays']}{course}")
    lines.append(_kinds_note())
    if result.get("env"):
        lines.append(f"env options: {result['env']}")
    return "\n".join(lines)


def reward_archive(ctx, config: str | None, outcome: str, run: str | None, name: str | None,
                   audit: bool) -> dict[str, Any]:
    from vbot_agent.rewards.library import archive_config

    root = ctx.workspace()
    if not config and not run:
        raise UsageError("give --config FILE (the reward you tried) and/or --run RUN_DIR (its training run)")
    run_dir = None
    if config:
        reward, env_options = _config_from_file(config)
        source = config
    if run:
        run_reward, run_env, _, run_dir = _config_from_run(ctx, run)
        if not config:
            reward, env_options, source = run_reward, run_env, str(run_dir / "experiment_meta.json")
    metrics = _run_metrics(run_dir) if run_dir else {}
    verdict = None
    if audit:
        from vbot_agent.rewards.audit import audit_reward

        a = audit_reward(reward=reward, env_config=env_options)
        verdict = {"passed": a["passed"], "flagged": sorted({f["exploit"] for f in a["flags"]}),
                   "walk_and_stop_return": a["behaviours"]["walk_and_stop"]["return"]}
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    default_name = f"{stamp}_{(Path(config).stem if config else run_dir.name)}"
    path = archive_config(root, reward=reward, env=env_options, outcome=outcome, name=name or default_name,
                          source=source, run=str(run_dir) if run_dir else None, metrics=metrics, audit=verdict)
    return {"archived": str(path), "name": path.stem, "metrics": metrics, "audit": verdict}


def _run_metrics(run_dir: Path) -> dict[str, Any]:
    """Final values of the run's headline series (mean of the last 10% of points), and its step count."""
    from vbot_agent.rewards.run_data import (
        TAG_DISTANCE,
        TAG_FALL,
        TAG_LENGTH,
        TAG_RETURN,
        TAG_SUCCESS,
        load_run,
    )

    try:
        data = load_run(run_dir)
    except UsageError:
        return {}
    out: dict[str, Any] = {}
    for key, tag in (("success_rate", TAG_SUCCESS), ("fall_rate", TAG_FALL), ("episode_return", TAG_RETURN),
                     ("episode_steps", TAG_LENGTH), ("distance_to_target_m", TAG_DISTANCE)):
        s = data.series(tag)
        if s is not None:
            out[key] = round(s.last, 4)
    steps = [int(s.steps[-1]) for s in data.scalars.values() if len(s)]
    if steps:
        out["env_steps"] = max(steps)
    return out


# ------------------------------------------------------------------------- diagnose-reward


def diagnose_reward(ctx, run: str, rollout: bool, episodes: int, search_space: str | None) -> dict[str, Any]:
    from vbot_agent.rewards.diagnosis import diagnose
    from vbot_agent.rewards.run_data import load_run, resolve_run

    run_dir = resolve_run(run, _runs_roots(ctx))
    data = load_run(run_dir)
    space = None
    if search_space:
        from vbot_agent.config import load_yaml

        space = load_yaml(search_space)
    if rollout:
        from vbot_agent.rl.commands import play

        ctx.say(f"rolling out {run_dir} for {episodes} episodes ...")
        data.rollout = play(ctx.quiet(), policy=str(run_dir), episodes=episodes)
    audit = _audit_of_run(ctx, data)
    result = diagnose(data, space, audit=audit).to_dict()
    if audit is None:
        no_audit = f"no reward audit: {data.env_id} is not a VBot navigation env"
        result["note"] = f"{result['note']}; {no_audit}" if result["note"] else no_audit
    return result


def _audit_of_run(ctx, data) -> dict[str, Any] | None:
    """``vbot reward audit --run RUN`` on the run's config, or None for envs without an audit."""
    from vbot_agent.sim.registry import ENV_IDS

    if data.env_id not in ENV_IDS:
        return None
    return reward_audit(ctx, env=None, config=None, preset=None, run=str(data.run_dir), overrides=[], distance=None)


def render_diagnose(result: dict[str, Any]) -> str:
    from vbot_agent.rewards.diagnosis import render_diagnosis

    return render_diagnosis(result)
