"""Campaigns (DESIGN.md §5): AutoML with optuna, trials as subprocesses, the state file, resume.

Layout (arrows point one way; nothing here imports torch or mujoco at module level):

- ``atomic``        temp + fsync + rename writes, plain-YAML-type checks
- ``state``         the campaign state file: schema, ``load_state`` (the reader for other code), writes
- ``lock``          the workspace lock that refuses a second campaign
- ``score``         the trial score: measured evaluation terms only, formula as text
- ``search_space``  the YAML search space (PPO settings and reward weights), key checks, suggestion
- ``settings``      the typed campaign settings (automl YAML + command-line flags)
- ``backend``       the one seam to the trainer: ``train_command``, ``evaluate``, ``check_keys``
- ``trainer``       the real backend (``vbot train`` + ``vbot_agent.rl.evaluate``)
- ``trial``         one trial, run as a subprocess (``vbot trial --config FILE``)
- ``runner``        the parent side of a trial: spawn, intermediate scores -> pruner, stop
- ``study``         optuna storage/study helpers: heartbeat, retries of dead workers' trials
- ``campaign``      the loop: new / resume / worker, budget clock, signals, bookkeeping
- ``checkpoints``   ``starter_kit_schedule/checkpoints/registry.yaml``
- ``report``        ``starter_kit_log/<automl_id>/``: index, summaries, report.md
- ``status``, ``analyze``, ``init``  the read-only views and ``vbot init``
- ``commands``      the action functions behind ``vbot init/automl/trial/status/analyze/checkpoints``
"""
