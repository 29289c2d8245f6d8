"""Learning curve of section001 with the default config (target: >= 50% per-episode success
within 20M env steps, targets 3-8 m away).

    python benchmarks/learning.py [--max-env-steps 20000000] [--out docs/learning_section001]
    python benchmarks/learning.py --run-dir runs/vbot_navigation_section001/<run>   # plot an existing run

Trains through ``vbot train`` (so the run folder is the usual one), then reads its TensorBoard
events and writes ``<out>.json`` (env steps vs success rate, distance to target, return; training
and evaluation series) and ``<out>.png``. Prints the JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vbot_agent import tensorboard_tags as tags

SERIES = {
    "train_success_rate": tags.SUCCESS_RATE,
    "train_fall_rate": tags.FALL_RATE,
    "distance_to_target": tags.DISTANCE_TO_TARGET,
    "episode_return": tags.EPISODE_RETURN,
    "eval_success_rate": "Eval / success_rate",
    "eval_fall_rate": "Eval / fall_rate",
    "eval_mean_return": "Eval / mean_return",
    "env_steps_per_s": tags.ENV_STEPS_PER_S,
    "episode_count": tags.EPISODE_COUNT,
}
BIN_STEPS = 500_000  # training episode metrics are pooled per bin, weighted by finished episodes


def pooled(series: dict[str, list[list[float]]], name: str) -> list[list[float]]:
    """Per-episode training metric pooled over BIN_STEPS bins (an iteration may finish 1 episode or 1000)."""
    counts = dict((int(s), c) for s, c in series.get("episode_count", []))
    bins: dict[int, list[float]] = {}
    for step, value in series.get(name, []):
        weight = counts.get(int(step), 1.0)
        acc = bins.setdefault(int(step) // BIN_STEPS, [0.0, 0.0])
        acc[0] += weight * value
        acc[1] += weight
    return [[(b + 1) * BIN_STEPS, total / weight] for b, (total, weight) in sorted(bins.items())]


def read_series(run_dir: Path) -> dict[str, list[list[float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    return {name: [[e.step, e.value] for e in acc.Scalars(tag)] for name, tag in SERIES.items() if tag in tags}


def plot(series: dict[str, list[list[float]]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    panels = [
        ("per-episode rates (training pooled per 0.5M steps)",
         ["train_success_rate", "eval_success_rate", "train_fall_rate", "eval_fall_rate"]),
        ("distance to target (m)", ["distance_to_target"]),
        ("episode return", ["episode_return", "eval_mean_return"]),
    ]
    for ax, (label, names) in zip(axes, panels):
        for name in names:
            values_of = pooled(series, name) if name.startswith("train_") or name == "episode_return" else series.get(name)
            if values_of:
                steps, values = zip(*values_of)
                ax.plot([s / 1e6 for s in steps], values, label=name.replace("_", " "),
                        marker="o" if name.startswith("eval") else None, markersize=3)
        ax.set_xlabel("env steps (M)")
        ax.set_title(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="vbot_navigation_section001")
    parser.add_argument("--max-env-steps", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", type=Path, help="plot this run instead of training a new one")
    parser.add_argument("--out", type=Path, default=Path("docs/learning_section001"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config key=value")
    args = parser.parse_args()

    run_dir = args.run_dir
    if run_dir is None:
        from vbot_agent.actions.context import Context
        from vbot_agent.rl.commands import train

        result = train(Context(json=True), env=args.env, max_env_steps=args.max_env_steps, seed=args.seed,
                       overrides=args.overrides)
        run_dir = Path(result["run_dir"])
    series = read_series(run_dir)
    if not series:
        sys.exit(f"{run_dir}: no TensorBoard scalars found")
    meta_path = run_dir / "experiment_meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    eval_success = series.get("eval_success_rate", [])
    summary = {
        "run_dir": str(run_dir),
        "env_id": meta.get("env_id", args.env),
        "env_steps": max((s for values in series.values() for s, _ in values), default=0),
        "final_train_success_rate": pooled(series, "train_success_rate")[-1][1] if series.get("train_success_rate") else None,
        "best_eval_success_rate": max((v for _, v in eval_success), default=None),
        "first_step_eval_success_ge_50pct": next((s for s, v in eval_success if v >= 0.5), None),
        "final_distance_to_target": series["distance_to_target"][-1][1] if series.get("distance_to_target") else None,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps({"summary": summary, "series": series}, indent=1) + "\n")
    plot(series, args.out.with_suffix(".png"), f"{summary['env_id']}: PPO learning curve")
    json.dump(summary, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
