"""Batched MuJoCo stepping for N independent copies of one model, on all cores without the GIL.

Every env's physics state lives in one array ``state[N, nstate]`` (MuJoCo's mjSTATE_FULLPHYSICS:
time, qpos, qvel, act, ...). A step hands that array and the controls to ``mujoco.rollout`` with a
persistent thread pool; the C++ side splits the batch across threads and releases the GIL, so the
Python side pays one call per control step, not one per env. Resetting an env is a row write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import mujoco
import numpy as np
from mujoco import rollout


@dataclass(frozen=True)
class StateLayout:
    """Column slices of the flat state array."""

    time: slice
    qpos: slice
    qvel: slice
    size: int

    @classmethod
    def of(cls, model: mujoco.MjModel) -> StateLayout:
        spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        size = mujoco.mj_stateSize(model, spec)
        # FULLPHYSICS starts with TIME, QPOS, QVEL in this order (mjtState bit order).
        return cls(time=slice(0, 1), qpos=slice(1, 1 + model.nq), qvel=slice(1 + model.nq, 1 + model.nq + model.nv),
                   size=size)


def default_threads() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class BatchedPhysics:
    """N copies of ``model`` stepped together.

    ``state``: [N, nstate] float64, the current physics state of every env (read and written in place).
    ``step(ctrl[N, nu], substeps)`` advances every env and returns ``sensordata[N, nsensordata]``
    recorded during the last substep.
    """

    def __init__(self, model: mujoco.MjModel, num_envs: int, threads: int | None = None) -> None:
        self.model = model
        self.num_envs = num_envs
        self.threads = threads or default_threads()
        self.layout = StateLayout.of(model)
        self._datas = [mujoco.MjData(model) for _ in range(self.threads)]
        self._models = [model] * num_envs  # skip_checks: one entry per env, no broadcasting
        self._model_pool = np.empty(0, dtype=object)  # per-env model variants (domain randomisation)
        self._pool_source: list[mujoco.MjModel] | None = None
        # nthread=1 runs on the calling thread: no pool to hand work to.
        self._pool = rollout.Rollout(nthread=self.threads if self.threads > 1 else 0)
        data = mujoco.MjData(model)
        init = np.empty(self.layout.size)
        mujoco.mj_getState(model, data, init, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        self.state = np.tile(init, (num_envs, 1))
        self._out_state: np.ndarray | None = None
        self._out_sensor: np.ndarray | None = None
        # ~10 chunks per thread balances load when some envs are in costly contact states.
        self._chunk = max(1, num_envs // (self.threads * 10))

    def step(self, ctrl: np.ndarray, substeps: int = 1) -> np.ndarray:
        """Advance all envs ``substeps`` physics steps holding ``ctrl`` [N, nu]; return sensordata [N, nsens]."""
        n, nstate, nsens = self.num_envs, self.layout.size, self.model.nsensordata
        if self._out_state is None or self._out_state.shape[1] != substeps:
            self._out_state = np.empty((n, substeps, nstate))
            self._out_sensor = np.empty((n, substeps, nsens))
        control = np.ascontiguousarray(ctrl, dtype=np.float64).reshape(n, 1, -1)
        self._pool.rollout(
            self._models,  # with skip_checks the binding wants lists
            self._datas,
            self.state,
            control,
            nstep=substeps,
            state=self._out_state,
            sensordata=self._out_sensor,
            chunk_size=self._chunk,
            skip_checks=True,
        )
        self.state[:] = self._out_state[:, -1]
        return self._out_sensor[:, -1]

    def assign_models(self, models: list[mujoco.MjModel], index: np.ndarray) -> None:
        """Step env i with ``models[index[i]]`` from now on (same size signature as ``model``;
        domain randomisation). ``index`` [N] ints. The list is rebuilt by numpy, not a Python loop."""
        if self._pool_source is not models:
            self._pool_source = models
            self._model_pool = np.empty(len(models), dtype=object)
            self._model_pool[:] = models
        self._models = self._model_pool[index].tolist()

    def close(self) -> None:
        """Stop the thread pool (idempotent)."""
        self._pool.close()
