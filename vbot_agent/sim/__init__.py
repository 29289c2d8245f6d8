"""MuJoCo simulation: the VBot model, batched physics, terrain and the navigation task.

Knows nothing of ``rl``; the contract it offers is in ``contract.py``.
"""

import os

# MuJoCo picks its GL backend when first imported; every renderer here is offscreen, so default to
# EGL (GPU or Mesa) before any sim module imports mujoco. An explicit MUJOCO_GL still wins.
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
