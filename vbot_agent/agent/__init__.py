"""The agent layer (docs/design.md, "Skills and the watcher"): skill files, their linter and router, and the WAKE_UP.md watcher.

Modules: ``skills`` (load SKILL.md files with line numbers), ``lint`` (check them against the
action registry and the real CLI), ``router`` (``vbot ask``: rank skills, propose an action),
``wakeup`` (build WAKE_UP.md from the campaign state and run folders), ``watcher`` (keep it current).
Nothing here imports torch or mujoco; the action registry is imported only when it is needed.
"""
