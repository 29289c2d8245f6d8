"""Cost of one PPO update (``PPO.update()``) under variants of precision, minibatches, epochs and
torch threads, alternated round by round in one process so background load hits all alike.

    python benchmarks/update_cost.py [--rounds 5] [--variants default,fp32,...] [--compile]

The storage is filled once with a rollout of the default shape (1024 envs x 24 steps, VBot's 63
observations, 12 actions; random values: the update's cost does not depend on them). Each variant
gets its own freshly initialised network (same seed). On one torch thread the timing is the
thread's CPU time (load-proof), else wall time. Reports the median and spread (min-max) of
seconds per update, env steps of data per second of update (``update_steps_per_s``), and the ratio
to ``default``. ``--compile`` adds a ``torch.compile``d variant and reports its one-off compile time.
The precision ``auto`` would choose here is printed with its timings (measured, not cached).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace

import torch

from vbot_agent.rl.config import PolicyConfig, PPOConfig
from vbot_agent.rl.networks import ActorCritic
from vbot_agent.rl.ppo import PPO

OBS_DIM, ACTION_DIM, NUM_ENVS = 63, 12, 1024

# name -> (precision, ppo overrides, torch threads; 0 = all cores)
VARIANTS: dict[str, tuple[str, dict, int]] = {
    "default": ("bf16", {}, 0),
    "fp32": ("fp32", {}, 0),
    "bf16_1thread": ("bf16", {}, 1),
    "fp32_1thread": ("fp32", {}, 1),
    "mb2": ("bf16", {"num_mini_batches": 2}, 0),
    "mb1": ("bf16", {"num_mini_batches": 1}, 0),
    "ep3_mb2": ("bf16", {"num_learning_epochs": 3, "num_mini_batches": 2}, 0),
    "ep4_mb4": ("bf16", {"num_learning_epochs": 4}, 0),
}


def make_ppo(precision: str, ppo_overrides: dict, steps: int) -> PPO:
    torch.manual_seed(0)
    pol = PolicyConfig()
    cfg = replace(PPOConfig(), num_steps_per_env=steps, **ppo_overrides)
    model = ActorCritic(OBS_DIM, ACTION_DIM, pol.actor_hidden_dims, pol.critic_hidden_dims, pol.activation,
                        pol.init_noise_std, precision)
    return PPO(model, cfg, NUM_ENVS, torch.device("cpu"), torch.Generator().manual_seed(0))


def fill(ppo: PPO, gen: torch.Generator) -> None:
    """One rollout of random transitions through the real act/process_step path, then GAE."""
    for _ in range(ppo.cfg.num_steps_per_env):
        obs = torch.randn(NUM_ENVS, OBS_DIM, generator=gen)
        ppo.act(obs)
        ppo.process_step(torch.randn(NUM_ENVS, generator=gen), torch.zeros(NUM_ENVS, dtype=torch.bool),
                         torch.zeros(NUM_ENVS, dtype=torch.bool), None)
    ppo.compute_returns(torch.randn(NUM_ENVS, OBS_DIM, generator=gen))


def timed_update(ppo: PPO, threads: int, saved: dict) -> float:
    """Seconds of one update on the same stored rollout (restored before each): this thread's CPU
    time on one torch thread (all the work is on it, and a busy machine does not inflate it by
    descheduling), wall time on more."""
    st = ppo.storage
    for name, value in saved.items():
        setattr(st, name, value.clone())
    st.step = st.num_steps
    before = torch.get_num_threads()
    torch.set_num_threads(threads or os.cpu_count() or 1)
    timer = time.thread_time if torch.get_num_threads() == 1 else time.perf_counter
    try:
        start = timer()
        ppo.update()
        return timer() - start
    finally:
        torch.set_num_threads(before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=24, help="rollout length per env")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--compile", action="store_true", help="add a torch.compile variant of default")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for every variant (a busy machine: 1 avoids OpenMP barrier waits)")
    args = parser.parse_args()
    names = args.variants.split(",")
    if args.threads is not None:
        for name, (precision, overrides, _) in list(VARIANTS.items()):
            VARIANTS[name] = (precision, overrides, args.threads)
    if "default" not in names:
        names.insert(0, "default")
    gen = torch.Generator().manual_seed(1)
    algs, saved = {}, {}
    for name in names:
        precision, overrides, _ = VARIANTS[name]
        algs[name] = make_ppo(precision, overrides, args.steps)
        fill(algs[name], gen)
        st = algs[name].storage
        saved[name] = {k: getattr(st, k).clone() for k in ("obs", "actions", "mu", "sigma", "log_probs", "values",
                                                            "rewards", "dones", "advantages", "returns")}
    compile_s = None
    if args.compile:
        algs["compiled"] = make_ppo("bf16", {}, args.steps)
        fill(algs["compiled"], gen)
        saved["compiled"] = saved["default"]
        start = time.perf_counter()
        model = algs["compiled"].actor_critic
        model.evaluate = torch.compile(model.evaluate)  # what the update calls, forward and backward
        timed_update(algs["compiled"], 0, saved["compiled"])  # the first call compiles
        compile_s = time.perf_counter() - start
        names.append("compiled")
        VARIANTS["compiled"] = ("bf16", {}, args.threads or 0)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds + 1):  # round 0 warms up oneDNN kernels
        for name in (names if r % 2 else names[::-1]):
            elapsed = timed_update(algs[name], VARIANTS[name][2], saved[name])
            if r:
                times[name].append(elapsed)
    base = statistics.median(times["default"])
    data_steps = NUM_ENVS * args.steps
    result = {
        "num_envs": NUM_ENVS, "steps_per_env": args.steps, "rounds": args.rounds, "cpu_count": os.cpu_count(),
        "torch": torch.__version__, "threads": args.threads or "per variant",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "update_s": {n: {"median": round(statistics.median(v), 4), "min": round(min(v), 4), "max": round(max(v), 4),
                         "vs_default": round(statistics.median(v) / base, 3),
                         "update_steps_per_s": round(data_steps / statistics.median(v))} for n, v in times.items()},
    }
    if compile_s is not None:
        result["compile_s"] = round(compile_s, 2)
    from vbot_agent.rl.precision import measure_update, update_shape

    pol = PolicyConfig()
    shape = update_shape(OBS_DIM, ACTION_DIM, pol.actor_hidden_dims, pol.critic_hidden_dims, pol.activation,
                         data_steps // PPOConfig().num_mini_batches)
    fp32_ms, bf16_ms = measure_update(shape)
    result["auto_probe_ms"] = {"fp32": round(fp32_ms, 2), "bf16": round(bf16_ms, 2)}
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
