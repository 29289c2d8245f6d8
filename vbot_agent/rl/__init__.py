"""PPO trainer (docs/design.md, "Trainer"): networks, normaliser, storage, algorithm, runner, evaluation, checkpoints.

Arrows: ``rl`` sees envs only through the batched contract (``vbot_agent.sim.contract``).
"""

import os

# Physics threads and torch threads take turns on the same cores. OpenMP's default "active" wait
# keeps torch's idle threads spinning after every op, which starves MuJoCo's thread pool (and
# everyone else on a shared 2-core machine): measured 5-10x slower updates under contention.
# Must be set before torch is first imported; an explicit OMP_WAIT_POLICY still wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
