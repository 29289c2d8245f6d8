"""Fake ``vbot train --json``: writes progress.json, checkpoints and the summary like the trainer.

Behaviour per trial from $FAKE_PLAN (JSON {"<trial number>" or "final" or "*": behaviour}):
ok (default), crash (exit 3 after a few iterations), hang (stops making progress), slow (each
iteration $FAKE_SLOW_FACTOR times longer), nan (checkpoints with NaN quality), killed_at_exit (SIGKILL after its last checkpoint, before the summary). ``--resume RUN_DIR`` continues that run from its last.pt.
$FAKE_LOG gets "start <tag> <pid>" / "end <tag> <pid>" (trained to its steps) or "end@<iteration> ..."
(stopped early) lines (and "resume@<iteration> ..." when
resuming). Every checkpoint also writes last.pt; SIGTERM saves last.pt and exits 0.
"""

import argparse
import json
import math
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--env")
parser.add_argument("--num-envs", type=int)
parser.add_argument("--max-env-steps", type=int)
parser.add_argument("--seed", type=int)
parser.add_argument("--config")
parser.add_argument("--set", action="append", default=[])
parser.add_argument("--json", action="store_true")
parser.add_argument("--resume")
parser.add_argument("--checkpoint")
args = parser.parse_args()

tag = os.environ.get("VBOT_TRIAL_ID", "standalone")
name = tag.rsplit("/", 1)[-1]
key = "final" if name == "final" else str(int(name.split("_")[-1])) if name.startswith("trial_") else name
plan = json.loads(os.environ.get("FAKE_PLAN", "{}"))
behaviour = plan.get(key, plan.get("*", "ok"))
steps_per_iter = int(os.environ.get("FAKE_STEPS_PER_ITER", "1000"))
iter_s = float(os.environ.get("FAKE_ITER_S", "0.01")) * (float(os.environ.get("FAKE_SLOW_FACTOR", "20"))
                                                         if behaviour == "slow" else 1.0)
ckpt_every = int(os.environ.get("FAKE_CKPT_EVERY", "10"))
values = {}
for item in args.set:
    k, _, v = item.partition("=")
    values[k] = json.loads(v)
lr = float(values.get("ppo.learning_rate", 1e-3))
param_quality = math.exp(-((math.log10(lr) + 3.0) ** 2))  # best at 1e-3


def log(event):
    if os.environ.get("FAKE_LOG"):
        with open(os.environ["FAKE_LOG"], "a") as handle:
            handle.write(f"{event} {tag} {os.getpid()}\n")


def atomic_json(path, data):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


stop = {"flag": False}
signal.signal(signal.SIGTERM, lambda s, f: stop.update(flag=True))
log("start")
if args.checkpoint:
    log(f"warm@{Path(args.checkpoint).name}")
first = 1
if args.resume:
    run_dir = Path(args.resume)
    first = json.loads((run_dir / "checkpoints" / "last.pt").read_text())["iteration"] + 1
    log(f"resume@{first - 1}")
else:
    run_dir = Path("runs") / args.env.replace(":", "_") / f"{datetime.now():%Y-%m-%d_%H-%M-%S}_{os.getpid()}_PPO"
    (run_dir / "checkpoints").mkdir(parents=True)
    atomic_json(run_dir / "experiment_meta.json", {"env_id": args.env, "seed": args.seed, "overrides": args.set})
started = datetime.now().isoformat()
iterations = max(1, args.max_env_steps // steps_per_iter)
t0 = time.time()
quality = 0.0
it = first - 1
completed = True
for it in range(first, iterations + 1):
    if stop["flag"]:
        completed = False
        it -= 1  # this iteration did not run
        break
    time.sleep(iter_s)
    if behaviour == "crash" and it == 3:
        print("RuntimeError: fake out of memory", file=sys.stderr)
        log("crash")
        sys.exit(3)
    if behaviour == "hang" and it == 3:
        while True:
            time.sleep(1)
    env_steps = it * steps_per_iter
    quality = param_quality * env_steps / (iterations * steps_per_iter)
    q = None if behaviour == "nan" else quality
    atomic_json(run_dir / "progress.json", {
        "env_id": args.env, "iteration": it, "env_steps": env_steps, "max_env_steps": args.max_env_steps,
        "env_steps_per_s": env_steps / max(time.time() - t0, 1e-6), "reward": quality, "success_rate": quality,
        "distance_to_target": 1 - quality, "started_at": started, "updated_at": datetime.now().isoformat(),
        "pid": os.getpid(), "status": "running"})
    if it % ckpt_every == 0:
        atomic_json(run_dir / "checkpoints" / f"model_{it}.pt", {"quality": q, "iteration": it})
        atomic_json(run_dir / "checkpoints" / "last.pt", {"quality": q, "iteration": it})
q = None if behaviour == "nan" else quality
atomic_json(run_dir / "checkpoints" / "last.pt", {"quality": q, "iteration": it})
atomic_json(run_dir / "checkpoints" / "best.pt", {"quality": q, "iteration": it})
log("end" if completed else f"end@{it}")  # "end": trained to its steps; "end@<iteration>": stopped early
if behaviour == "killed_at_exit":  # killed after its last checkpoint, before its summary
    os.kill(os.getpid(), signal.SIGKILL)
print(json.dumps({"run_dir": str(run_dir), "env_steps": it * steps_per_iter, "iterations": it,
                  "env_steps_per_s": it * steps_per_iter / max(time.time() - t0, 1e-6),
                  "final_reward": quality, "success_rate": quality}))
