"""Navigation 2 end to end: train with the shipped terrain plan within a wall budget, then score the
final policy on the competition courses.

    python benchmarks/nav2.py [--budget-h 2.0] [--workspace nav2_workspace] [--steps-scale 1.0]
        [--num-envs N] [--episodes 20] [--sections section011,section012,section013,long_course]

Training runs ``vbot curriculum run --plan terrain`` (flat tiles -> terrain levels -> section 011
-> 012 -> 013 -> long course, ``starter_kit_schedule/curricula/terrain.yaml``) in the workspace until
the plan ends, a stage is stuck, or the wall budget (at most 2 h, counted over every sitting) is
spent; then it is stopped like Ctrl-C. Run the same command again to resume: the curriculum goes on
where it stopped and the budget left is read from ``<workspace>/nav2_bench.json``.

Scoring: the best checkpoint of the furthest stage reached plays ``--episodes`` competition runs of
each section and of the long course (spawn on the start area, the run times entrants used) and the
competition's points are counted (``vbot play --competition``'s rules): per section mean and best,
falls, course time, and the issue's targets (section 011 >= 14, 012 >= 30, 013 >= 10, the long
course completed without a fall in >= 25% of runs). Each section is also scored with the best
checkpoint of its own stage (``specialist_scores``): the sections are scored one at a time, so a
user may enter each with the policy trained for it, and the stages after a section can forget it.
Prints one JSON object.

``--smoke`` runs the whole chain at a tiny budget (a few thousand steps per stage, promotion at any
success rate, 4 s scoring runs): it checks the plumbing, not the robot.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PLAN = REPO / "starter_kit_schedule/curricula/terrain.yaml"
SECTIONS = {"section011": "vbot_navigation_section011", "section012": "vbot_navigation_section012",
            "section013": "vbot_navigation_section013", "long_course": "vbot_navigation_long_course"}
TARGETS = {"section011": 14.0, "section012": 30.0, "section013": 10.0}
LONG_COURSE_COMPLETION = 0.25
MAX_BUDGET_H = 2.0
STATE = "nav2_bench.json"


class BadInput(Exception):
    """One line for stderr, exit 2."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget-h", type=float, default=MAX_BUDGET_H, help="wall budget over all sittings (h, <= 2)")
    parser.add_argument("--workspace", default="nav2_workspace", help="resumable workspace folder")
    parser.add_argument("--plan", default=str(PLAN), help="curriculum plan YAML (default: the shipped terrain plan)")
    parser.add_argument("--steps-scale", type=float, default=1.0, help="multiply every stage's step budget")
    parser.add_argument("--num-envs", type=int, help="training envs (default: the plan's)")
    parser.add_argument("--episodes", type=int, default=20, help="scoring runs per section (>= 20 for the report)")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--smoke", action="store_true", help="tiny budgets: checks the chain, not the robot")
    args = parser.parse_args(argv)
    if not 0 < args.budget_h <= MAX_BUDGET_H:
        raise BadInput(f"--budget-h must be in (0, {MAX_BUDGET_H}], got {args.budget_h}")
    if not 0 < args.steps_scale <= 10:
        raise BadInput(f"--steps-scale must be in (0, 10], got {args.steps_scale}")
    if args.episodes < 1 or (args.num_envs is not None and args.num_envs < 1):
        raise BadInput("--episodes and --num-envs must be at least 1")
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown or not args.sections:
        raise BadInput(f"unknown section {unknown[0] if unknown else '(none)'!r}; valid: {', '.join(SECTIONS)}")
    return args


def bench_plan(args, root: Path) -> Path:
    """The plan copy this benchmark runs (budgets scaled; smoke: tiny), validated like `vbot curriculum run`."""
    from vbot_agent.curriculum.plan import load_plan

    load_plan(args.plan)  # unknown env ids (terrains), levels or options: a UsageError naming the stage
    plan = yaml.safe_load(Path(args.plan).read_text())
    plan["name"] = "nav2_bench"
    if args.num_envs:
        plan["num_envs"] = args.num_envs
    for stage in plan["stages"]:
        stage["steps"] = max(1, int(stage["steps"] * args.steps_scale))
    if args.smoke:
        plan["num_envs"] = args.num_envs or 8
        plan["evaluation"] = {"episodes": 2, "final_episodes": 2, "every_env_steps": 1000, "seed": 1}
        for stage in plan["stages"]:
            stage.update(steps=1500)
            stage["env"] = {**stage.get("env", {}), "episode_length_s": 2.0}
            stage["promote"] = {"success_rate": 0.0, "min_env_steps": 0, "patience": 1}
    path = root / "nav2_bench_plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    load_plan(path)
    return path


def train(root: Path, plan: Path, seconds_left: float) -> dict:
    """Run (or resume) the curriculum for at most ``seconds_left`` s; stop it like Ctrl-C after that."""
    cmd = [sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), "curriculum", "run", "--plan", str(plan),
           "--json"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=root, env=env)
    try:
        out, err = proc.communicate(timeout=seconds_left)
        stopped = False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)  # the curriculum saves its state and stops its trial
        try:
            out, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        stopped = True
    if proc.returncode not in (0, 130, -2) and not stopped:
        raise RuntimeError(f"vbot curriculum run failed ({proc.returncode}): {err.strip()[-2000:]}")
    try:
        return {"stopped_by_budget": stopped, **json.loads(out)}
    except json.JSONDecodeError:
        return {"stopped_by_budget": stopped, "status": "stopped", "stages": []}


def curriculum_status(root: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "vbot_agent.cli", "--workspace", str(root), "curriculum", "status",
                           "--json"], capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        raise RuntimeError(f"vbot curriculum status failed: {proc.stderr.strip()[-1000:]}")
    return json.loads(proc.stdout)


def final_checkpoint(root: Path, status: dict) -> tuple[str, Path]:
    """(stage name, path) of the best checkpoint of the furthest stage that has one."""
    for stage in reversed(status.get("stages", [])):
        if stage.get("best_checkpoint"):
            return stage["name"], (root / stage["best_checkpoint"]).resolve()
    raise RuntimeError("no stage has an evaluated checkpoint yet; give the benchmark more budget")


def stage_checkpoints(root: Path, status: dict) -> dict[str, Path]:
    """{section: best checkpoint of the last stage trained on that section's env id}."""
    by_env = {s["env_id"]: (root / s["best_checkpoint"]).resolve()
              for s in status.get("stages", []) if s.get("best_checkpoint")}
    return {name: by_env[env_id] for name, env_id in SECTIONS.items() if env_id in by_env}


def score(checkpoints: dict[str, Path], episodes: int, episode_s: float | None) -> dict:
    """Competition runs of each section with its checkpoint's policy (one robot per run)."""
    from vbot_agent.rl.checkpoint import InferencePolicy, load_checkpoint
    from vbot_agent.rl.competition import course_competition_options, summarize_course_points
    from vbot_agent.rl.envs import make_env
    from vbot_agent.rl.evaluate import run_episodes

    out = {}
    for name, checkpoint in checkpoints.items():
        policy = InferencePolicy(load_checkpoint(checkpoint), "cpu")
        env_id = SECTIONS[name]
        options = course_competition_options(env_id, dict(policy.config.env))
        if episode_s is not None:
            options["episode_length_s"] = episode_s
        started = time.time()
        env = make_env(env_id, episodes, seed=777, env=options, reward=dict(policy.config.reward))
        try:
            summary = summarize_course_points(run_episodes(policy, env, seed=777))
        finally:
            env.close()
        summary["wall_s"] = round(time.time() - started, 1)
        if name in TARGETS:
            summary["target"] = TARGETS[name]
            summary["target_met"] = summary["points"]["mean"] >= TARGETS[name]
        else:
            summary["target_completion_rate"] = LONG_COURSE_COMPLETION
            summary["target_met"] = summary["completed_rate"] >= LONG_COURSE_COMPLETION
        out[name] = {"checkpoint": str(checkpoint), **summary}
    return out


def main(argv: list[str]) -> int:
    from vbot_agent.errors import UsageError

    try:
        args = parse_args(argv)
        root = Path(args.workspace).resolve()
        if not (root / "starter_kit_schedule").is_dir():
            from vbot_agent.workspace.init import init_workspace

            init_workspace(root)
        plan = bench_plan(args, root)
    except (BadInput, UsageError) as exc:
        print(f"nav2: {exc}", file=sys.stderr)
        return 2
    from vbot_agent.fileio import atomic_write_text

    state_path = root / STATE
    state = json.loads(state_path.read_text()) if state_path.exists() else {"train_wall_s": 0.0, "sittings": 0}
    budget_s = args.budget_h * 3600.0
    left = budget_s - state["train_wall_s"]
    trained = {}
    if left > 1.0:
        started = time.time()
        trained = train(root, plan, left)
        state["train_wall_s"] += time.time() - started
        state["sittings"] += 1
        atomic_write_text(state_path, json.dumps(state))
    try:
        status = curriculum_status(root)
        stage, checkpoint = final_checkpoint(root, status)
    except RuntimeError as exc:  # e.g. the budget ran out before the first evaluation
        print(f"nav2: {exc} (train wall so far {state['train_wall_s']:.0f} s)", file=sys.stderr)
        return 1
    episode_s = 4.0 if args.smoke else None
    scores = score({name: checkpoint for name in args.sections}, args.episodes, episode_s)
    own = stage_checkpoints(root, status)
    fresh = {name: own[name] for name in args.sections if name in own and own[name] != checkpoint}
    fresh_scores = score(fresh, args.episodes, episode_s)
    specialists = {name: fresh_scores.get(name, scores[name]) for name in args.sections if name in own}
    stages = [{k: s.get(k) for k in ("name", "env_id", "status", "env_steps", "best_success_rate", "wall_s")}
              for s in status.get("stages", [])]
    print(json.dumps({
        "workspace": str(root), "plan": str(plan), "budget_h": args.budget_h,
        "train_wall_s": round(state["train_wall_s"], 1), "sittings": state["sittings"],
        "curriculum_status": status.get("status"), "stopped_by_budget": trained.get("stopped_by_budget", True),
        "stages": stages, "final_stage": stage, "checkpoint": str(checkpoint), "cpu_count": os.cpu_count(),
        "scores": scores, "specialist_scores": specialists,
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
