"""``policy.precision: auto``: bf16 hidden layers where they make the PPO update faster, else fp32.

Whether bf16 pays depends on more than a CPU flag: with AMX (amx_bf16) the update's matrix products
run about twice as fast in bf16; with AVX512-BF16 alone the autocast casts cost more than the
products save and bf16 was measured 15-20% slower; without either, bf16 is emulated. So ``auto``
times the update's own forward and backward pass (the run's network sizes, one minibatch of its
rows) in both precisions, alternating, and keeps bf16 only when it is clearly faster. It is timed
on one torch thread by that thread's CPU time, and the fastest repeat of each counts: the bf16/fp32
ratio is a property of a core (AMX tiles are per core), and on a shared machine two OpenMP threads
waiting for a busy core inflated one fp32 wall-clock timing twentyfold; CPU time does not count the
time the thread waits to be scheduled, and what noise remains only ever adds time. The answer is cached per machine, torch version and problem shape in
``<user cache>/vbot/precision.json`` (``VBOT_CACHE_DIR`` overrides the folder), so the measurement,
a few hundred ms, is paid once; the trainer records the choice in ``experiment_meta.json`` and in
its checkpoints, so a resumed run keeps it even if the cache is gone.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from vbot_agent.fileio import atomic_write_text

CACHE_FILE = "precision.json"
CACHE_VERSION = 1
# bf16 rounds the hidden activations to 8 bits of mantissa: take it only for a clear gain.
BF16_MIN_SPEEDUP = 1.1
REPEATS = 5  # alternated fp32/bf16 timings; the fastest of each is compared
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")
# Minibatches above this many rows are timed at it: past a few thousand rows the products are
# large enough that the bf16/fp32 ratio no longer moves, and the probe stays ~0.3 s on 2 cores
# (it runs in every new shape's first run, campaign trials included).
MAX_PROBE_ROWS = 4096


@dataclass(frozen=True)
class UpdateShape:
    """What the timed pass looks like: the network sizes and one minibatch of ``rows`` transitions."""

    obs_dim: int
    action_dim: int
    actor_hidden_dims: tuple[int, ...]
    critic_hidden_dims: tuple[int, ...]
    activation: str
    rows: int


@dataclass(frozen=True)
class PrecisionChoice:
    """The resolved precision and why: ``reason`` is ``forced``, ``device``, ``no-native-bf16``,
    ``measured``, ``cached`` or ``checkpoint`` (a resumed run's); the timings (ms per forward and
    backward pass over one minibatch) when measured or cached."""

    precision: str
    reason: str
    fp32_ms: float | None = None
    bf16_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def bf16_matmuls_are_native() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX); elsewhere it is emulated."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes
        return False


def cache_dir() -> Path:
    """``$VBOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/vbot``, else ``~/.cache/vbot``."""
    if os.environ.get("VBOT_CACHE_DIR"):
        return Path(os.environ["VBOT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vbot"


def cpu_identity() -> dict[str, Any]:
    """CPU model name and the matrix-relevant flags (Linux /proc/cpuinfo; platform name elsewhere)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())  # the first processor's
    except OSError:
        pass
    flags = set(fields.get("flags", "").split())
    return {"cpu": fields.get("model name") or platform.processor() or platform.machine(),
            "flags": [f for f in CPU_FLAGS if f in flags]}


def cache_key(shape: UpdateShape) -> str:
    """One string naming everything the measured answer depends on."""
    return json.dumps({**cpu_identity(), "torch": torch.__version__, **asdict(shape)}, sort_keys=True)


def load_cache(path: Path) -> dict[str, Any]:
    """The cached entries, or {} when the file is missing, unreadable or of another version."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("entries"), dict):
        return {}
    return data["entries"]


def _valid_entry(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("precision") in ("fp32", "bf16")


def resolve_precision(precision: str, device: torch.device, shape: UpdateShape | None = None, *,
                      measure: Callable[[UpdateShape], tuple[float, float]] | None = None) -> PrecisionChoice:
    """Resolve ``auto``: fp32 on CUDA and on CPUs without native bf16; otherwise the faster of the
    two by :func:`measure_update` for ``shape`` (cached). ``fp32``/``bf16`` are returned as forced.

    ``measure(shape) -> (fp32_ms, bf16_ms)`` replaces the timing (tests).
    """
    if precision != "auto":
        return PrecisionChoice(precision, "forced")
    if device.type != "cpu":
        return PrecisionChoice("fp32", "device")
    if not bf16_matmuls_are_native():
        return PrecisionChoice("fp32", "no-native-bf16")
    if shape is None:
        raise ValueError("precision 'auto' on a CPU with native bf16 needs the update's shape to measure")
    path = cache_dir() / CACHE_FILE
    key = cache_key(shape)
    entries = load_cache(path)
    if _valid_entry(entries.get(key)):
        hit = entries[key]
        return PrecisionChoice(hit["precision"], "cached", hit.get("fp32_ms"), hit.get("bf16_ms"))
    fp32_ms, bf16_ms = (measure or measure_update)(shape)
    choice = PrecisionChoice("bf16" if fp32_ms >= BF16_MIN_SPEEDUP * bf16_ms else "fp32", "measured",
                             round(fp32_ms, 3), round(bf16_ms, 3))
    entries = {**load_cache(path), key: {"precision": choice.precision, "fp32_ms": choice.fp32_ms,
                                         "bf16_ms": choice.bf16_ms, "measured_at": time.time()}}
    try:
        atomic_write_text(path, json.dumps({"version": CACHE_VERSION, "entries": entries}, indent=1) + "\n")
    except OSError as exc:  # a read-only home: the choice stands, it is measured again next time
        print(f"vbot: could not cache the precision choice in {path}: {exc}", file=sys.stderr)
    return choice


def measure_update(shape: UpdateShape, repeats: int = REPEATS) -> tuple[float, float]:
    """Fastest CPU ms of one forward + backward pass over ``shape.rows`` rows on one torch thread,
    (fp32, bf16), the two alternated ``repeats`` times after a warm-up.

    Draws from its own generator and restores torch's global RNG and thread count, so measuring
    does not change what a seeded run does afterwards.
    """
    from vbot_agent.rl.networks import ActorCritic

    threads = torch.get_num_threads()
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    with torch.random.fork_rng(devices=[]):
        torch.set_num_threads(1)
        try:
            gen = torch.Generator().manual_seed(0)
            obs = torch.randn(shape.rows, shape.obs_dim, generator=gen)
            actions = torch.randn(shape.rows, shape.action_dim, generator=gen)
            models = {p: ActorCritic(shape.obs_dim, shape.action_dim, shape.actor_hidden_dims,
                                     shape.critic_hidden_dims, shape.activation, precision=p)
                      for p in ("fp32", "bf16")}
            for r in range(repeats + 1):  # round 0 warms up (oneDNN builds its kernels on first use)
                for name in (("fp32", "bf16") if r % 2 else ("bf16", "fp32")):
                    elapsed = _time_pass(models[name], obs, actions)
                    if r:
                        times[name].append(elapsed)
        finally:
            torch.set_num_threads(threads)
    return min(times["fp32"]) * 1e3, min(times["bf16"]) * 1e3


def _time_pass(model, obs: torch.Tensor, actions: torch.Tensor) -> float:
    """CPU seconds of this thread (with one torch thread, all of the pass's work) for one pass."""
    start = time.thread_time()
    log_prob, entropy, value, _, _ = model.evaluate(obs, actions)
    (value.square().mean() - log_prob.mean() - entropy.mean()).backward()
    elapsed = time.thread_time() - start
    model.zero_grad(set_to_none=True)
    return elapsed


def update_shape(obs_dim: int, action_dim: int, actor_hidden_dims: Sequence[int],
                 critic_hidden_dims: Sequence[int], activation: str, rows: int) -> UpdateShape:
    """The shape to time for a minibatch of ``rows`` transitions (capped at ``MAX_PROBE_ROWS``)."""
    return UpdateShape(obs_dim, action_dim, tuple(actor_hidden_dims), tuple(critic_hidden_dims), activation,
                       min(rows, MAX_PROBE_ROWS))
