"""Physics cost and stability of MuJoCo option variants on the VBot model (section001, flat).

    python benchmarks/physics_options.py [--num-envs 1024] [--rounds 5] [--steps 48] [--variants a,b]

Every variant is the shipped model with a few options or collision masks changed after compiling.
Speed: physics-only steps/s (``BatchedPhysics`` on all cores unless --threads, smoothed random
actions like the env; ``no_eulerdamp`` and ``no_midphase`` change nothing on this model and so
show the noise of the measurement),
variants alternated round by round inside this one process, so background load hits all alike;
the median and the spread (min-max) over rounds are reported, with the ratio to ``shipped``.
Stability, per variant, from the same initial states as the reference:
  - ``stand``: 10 s under zero action (default pose targets): trunk height range after 1 s, and
    the drift between 5 s and 10 s (the test in tests/sim/test_physics.py asks 0.22-0.30 m, 2 mm);
  - ``trot``: 5 s of an open-loop diagonal trot (a walking contact pattern): share of robots whose
    trunk touched the ground or tilted past 75 degrees, and mean forward distance;
  - ``random``: 2 s of smoothed uniform random actions (stumbling and falling): fall share;
  - ``blowups``: non-finite states or joint speeds above 100 rad/s in any of them.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import mujoco
import numpy as np

from vbot_agent.sim import robot
from vbot_agent.sim.mathx import gravity_in_body
from vbot_agent.sim.navigation import JOINTS_Q, JOINTS_V, build_model
from vbot_agent.sim.physics import BatchedPhysics

LEG_GEOMS = ("thigh", "calf")


def _set_contact(model: mujoco.MjModel, parts: tuple[str, ...], enabled: bool) -> None:
    for leg in robot.LEGS:
        for part in parts:
            gid = model.geom(f"{leg}_{part}").id
            model.geom_contype[gid] = 1 if enabled else 0


def variant(name: str) -> mujoco.MjModel:
    """The shipped model with the changes ``name`` stands for."""
    m = build_model("flat")
    o = m.opt
    flags = mujoco.mjtDisableBit
    changes = {
        "shipped": lambda: None,
        "pgs": lambda: setattr(o, "solver", mujoco.mjtSolver.mjSOL_PGS),
        "cg": lambda: setattr(o, "solver", mujoco.mjtSolver.mjSOL_CG),
        "newton_it5": lambda: setattr(o, "iterations", 5),
        "newton_it3": lambda: setattr(o, "iterations", 3),
        "ls_it5": lambda: setattr(o, "ls_iterations", 5),
        "ls_it3": lambda: setattr(o, "ls_iterations", 3),
        "tol_1e-4": lambda: setattr(o, "tolerance", 1e-4),
        "tol_1e-3": lambda: setattr(o, "tolerance", 1e-3),
        # the shipped model runs without warm start; this puts it back (the previous default)
        "warmstart": lambda: setattr(o, "disableflags", o.disableflags & ~int(flags.mjDSBL_WARMSTART)),
        "no_calf_contact": lambda: _set_contact(m, ("calf",), False),
        "feet_trunk_only": lambda: _set_contact(m, LEG_GEOMS, False),
        "no_eulerdamp": lambda: setattr(o, "disableflags", o.disableflags | flags.mjDSBL_EULERDAMP),
        "no_midphase": lambda: setattr(o, "disableflags", o.disableflags | flags.mjDSBL_MIDPHASE),
        "feet_trunk_only+tol_1e-4": lambda: (_set_contact(m, LEG_GEOMS, False), setattr(o, "tolerance", 1e-4)),
        # The reference for stability: Newton run to a tight tolerance.
        "reference": lambda: (setattr(o, "iterations", 100), setattr(o, "ls_iterations", 50),
                              setattr(o, "tolerance", 1e-10)),
    }
    changes[name]()
    return m


ALL = ("shipped", "warmstart", "pgs", "cg", "newton_it5", "newton_it3", "ls_it5", "ls_it3", "tol_1e-4",
       "tol_1e-3", "no_calf_contact", "feet_trunk_only", "no_eulerdamp", "no_midphase", "feet_trunk_only+tol_1e-4")


def initial_states(physics: BatchedPhysics, n: int, rng: np.random.Generator) -> np.ndarray:
    """Robots at the spawn height in the default pose with the env's joint noise (0.1 rad)."""
    state = physics.state.copy()
    q = physics.layout.qpos
    qpos = state[:, q]
    qpos[:, 0:2] = rng.uniform(-1, 1, (n, 2))
    qpos[:, 2] = robot.SPAWN_HEIGHT
    yaw = rng.uniform(-np.pi, np.pi, n)
    qpos[:, 3:7] = np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=1)
    qpos[:, JOINTS_Q] = np.clip(robot.DEFAULT_POSE + rng.uniform(-0.1, 0.1, (n, 12)), robot.JOINT_LOWER,
                                robot.JOINT_UPPER)
    state[:, q] = qpos
    state[:, physics.layout.qvel] = 0.0
    return state


def trot_targets(t: float, n: int) -> np.ndarray:
    """Open-loop diagonal trot at 2 Hz: FR+RL and FL+RR swing in antiphase (joint targets, rad)."""
    phase = 2 * np.pi * 2.0 * t
    targets = np.tile(robot.DEFAULT_POSE, (n, 1)).reshape(n, 4, 3)
    for leg, offset in zip(range(4), (0.0, np.pi, np.pi, 0.0)):  # FR, FL, RR, RL
        s = np.sin(phase + offset)
        targets[:, leg, 1] += 0.25 * s  # thigh swings forward/back
        targets[:, leg, 2] -= 0.35 * max(s, 0.0)  # the calf folds: the foot lifts in swing
    return targets.reshape(n, 12)


def _fallen(physics: BatchedPhysics, sensors: np.ndarray) -> np.ndarray:
    qpos = physics.state[:, physics.layout.qpos]
    tilt = -gravity_in_body(qpos[:, 3:7])[:, 2] < np.cos(np.radians(75))
    return (sensors[:, robot.SENSOR_TRUNK_CONTACT][:, 0] > 0) | tilt


def _blown(physics: BatchedPhysics) -> np.ndarray:
    st = physics.state
    return ~np.isfinite(st).all(axis=1) | (np.abs(st[:, physics.layout.qvel][:, JOINTS_V]).max(axis=1) > 100)


def stability(model: mujoco.MjModel, n: int = 128, seed: int = 0) -> dict[str, float]:
    physics = BatchedPhysics(model, n, threads=1)
    rng = np.random.default_rng(seed)
    start = initial_states(physics, n, rng)
    q = physics.layout.qpos
    out: dict[str, float] = {}
    blown = np.zeros(n, bool)
    # stand
    physics.state[:] = start
    heights = []
    for _ in range(1000):
        physics.step(np.tile(robot.DEFAULT_POSE, (n, 1)))
        heights.append(physics.state[:, q][:, 2].copy())
        blown |= _blown(physics)
    h = np.array(heights)
    out["stand_height_min_m"] = round(float(h[100:].min()), 4)
    out["stand_height_max_m"] = round(float(h[100:].max()), 4)
    out["stand_drift_5_10s_mm"] = round(float(np.abs(h[-1] - h[499]).max() * 1000), 3)
    # trot
    physics.state[:] = start
    fell = np.zeros(n, bool)
    x0 = physics.state[:, q][:, 0:2].copy()
    for k in range(500):
        sensors = physics.step(trot_targets(k * 0.01, n))
        fell |= _fallen(physics, sensors)
        blown |= _blown(physics)
    moved = np.linalg.norm(physics.state[:, q][:, 0:2] - x0, axis=1)
    out["trot_fall_share"] = round(float(fell.mean()), 3)
    out["trot_mean_travel_m"] = round(float(moved.mean()), 3)
    # random
    physics.state[:] = start
    fell[:] = False
    filtered = np.zeros((n, 12))
    for _ in range(200):
        filtered = 0.3 * rng.uniform(-1, 1, (n, 12)) + 0.7 * filtered
        sensors = physics.step(robot.DEFAULT_POSE + 0.25 * 3 * filtered)
        fell |= _fallen(physics, sensors)
        blown |= _blown(physics)
    out["random_fall_share"] = round(float(fell.mean()), 3)
    out["blowups"] = int(blown.sum())
    physics.close()
    return out


def speed(names: list[str], num_envs: int, rounds: int, steps: int, threads: int | None = None,
          clock: str = "wall") -> dict[str, dict[str, float]]:
    """Steps/s per variant. ``clock="cpu"`` (needs ``threads=1``: MuJoCo then steps on this thread)
    times by this thread's CPU time, which a busy machine does not inflate by descheduling it."""
    timer = time.thread_time if clock == "cpu" else time.perf_counter
    rng = np.random.default_rng(0)
    sims = {}
    for name in names:
        physics = BatchedPhysics(variant(name), num_envs, threads=threads)
        physics.state[:] = initial_states(physics, num_envs, np.random.default_rng(1))
        sims[name] = physics
    actions = rng.uniform(-1, 1, (steps, num_envs, 12))
    starts = {name: p.state.copy() for name, p in sims.items()}
    rates: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds + 1):  # round 0 warms up (thread pools, first contacts)
        for name in (names if r % 2 else names[::-1]):
            physics = sims[name]
            physics.state[:] = starts[name]
            filtered = np.zeros((num_envs, 12))
            t0 = timer()
            for a in actions:
                filtered = 0.3 * a + 0.7 * filtered
                physics.step(robot.DEFAULT_POSE + 0.25 * filtered)
            if r:
                rates[name].append(num_envs * steps / (timer() - t0))
    for p in sims.values():
        p.close()
    base = statistics.median(rates["shipped"]) if "shipped" in rates else None
    return {name: {"median": round(statistics.median(v)), "min": round(min(v)), "max": round(max(v)),
                   **({"vs_shipped": round(statistics.median(v) / base, 3)} if base else {})}
            for name, v in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=48, help="control steps per timed block")
    parser.add_argument("--variants", default=",".join(ALL))
    parser.add_argument("--threads", type=int, default=None, help="physics threads (default: all cores)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="cpu: time by this thread's CPU time (with --threads 1; for a busy machine)")
    parser.add_argument("--no-stability", action="store_true")
    args = parser.parse_args()
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu needs --threads 1 (the physics must step on the timed thread)")
    names = args.variants.split(",")
    if "shipped" not in names:
        names.insert(0, "shipped")
    result = {"num_envs": args.num_envs, "rounds": args.rounds, "steps_per_block": args.steps,
              "mujoco": mujoco.__version__, "cpu_count": os.cpu_count(),
              "load_average_1min_before": round(os.getloadavg()[0], 2),
              "threads": args.threads or "all cores", "clock": args.clock,
              "physics_steps_per_s": speed(names, args.num_envs, args.rounds, args.steps, args.threads,
                                           args.clock)}
    if not args.no_stability:
        result["stability"] = {name: stability(variant(name)) for name in ["reference", *names]}
    result["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    json.dump(result, __import__("sys").stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
