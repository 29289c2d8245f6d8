"""Campaign actions: ``init``, ``automl``, ``automl worker``, ``trial``, ``status``, ``analyze``,
``checkpoints`` (implemented in ``vbot_agent.automl.commands``)."""

from vbot_agent.actions.registry import Action, Param

_C = "vbot_agent.automl.commands"

INIT = Action(
    name="init",
    summary="create a workspace: starter_kit_schedule/ (templates, curricula, reward_library, progress, checkpoints), "
            "starter_kit_log/; in an existing one, add the files a newer vbot ships that it lacks (never overwriting one)",
    func=f"{_C}:init",
    group="campaign",
    params=(Param("dir", "path", positional=True, help="folder to make a workspace (default: the current folder)"),),
)

AUTOML = Action(
    name="automl",
    summary="autoML campaign: seeded TPE search over PPO settings and reward weights, trials as subprocesses",
    func=f"{_C}:automl",
    render=f"{_C}:render_automl",
    group="campaign",
    long_running=True,
    params=(
        Param("mode", choices=("hp", "reward", "stage"),
              help="hp: PPO settings, reward: reward weights, stage: both then one long final run (default: the "
                   "config's mode; the shipped template's is stage)"),
        Param("env", help="env id (default: the config's env_id; the shipped template's is vbot_navigation_section001)"),
        Param("budget_hours", "float", min=0.0,
              help="wall-clock budget, enforced inside trials, kept across resumes; trial count and lengths left "
                   "`auto` are planned to fit it from the throughput measured on this machine"),
        Param("hp_trials", "count", help="trials in the search phase, or auto (planned from the budget)"),
        Param("trial_steps", "count", help="env steps per search trial, or auto"),
        Param("final_steps", "count", help="env steps of the final training (mode stage), or auto"),
        Param("config", "path", help="automl YAML (default: starter_kit_schedule/templates/automl.yaml)"),
        Param("seed", "int", help="sampler seed"),
        Param("resume", "bool", default=False,
              help="continue the workspace's campaign with the settings in its state (only --budget-hours may change)"),
        Param("dry_run", "bool", default=False,
              help="print the plan (trials, their length, the final run, the time estimate) and start nothing; "
                   "without a cached training rate for this workspace, machine, env and env count it first "
                   "measures one (~10 s) and caches it, even when trial count and lengths are all given"),
        Param("recalibrate", "bool", default=False,
              help="measure this machine's training rate again for the plan instead of using the cached figure "
                   "(a figure over a week old is measured again anyway); do it on a quiet machine"),
        Param("storage", help="optuna storage URL (default: SQLite in the workspace); postgresql://... for "
                              "workers. Its password is never written to a file: with --resume, give the URL "
                              "again or set PGPASSWORD / ~/.pgpass"),
    ),
    epilog=(
        "State: starter_kit_schedule/progress/automl_state.yaml; logs: starter_kit_log/<automl_id>/.\n"
        "Ctrl-C / SIGTERM stop the running trial and the campaign; `vbot automl --resume` continues.\n"
        "More machines: `vbot automl worker --storage URL --study <automl_id>` (PostgreSQL storage)."
    ),
)

AUTOML_WORKER = Action(
    name="automl worker",
    summary="join a campaign's study from another machine and run its trials (PostgreSQL storage)",
    func=f"{_C}:automl_worker",
    group="campaign",
    long_running=True,
    params=(
        Param("storage", required=True, help="the campaign's optuna storage URL, e.g. postgresql://user:pw@host/db"),
        Param("study", required=True, help="study name = the campaign's automl_id (see `vbot status`)"),
    ),
)

TRIAL = Action(
    name="trial",
    summary="run one trial: train, evaluate its checkpoints, score (what a campaign runs as a subprocess)",
    func=f"{_C}:trial",
    group="campaign",
    long_running=True,
    params=(Param("config", "path", required=True, help="trial YAML (a campaign writes them to starter_kit_log/<id>/configs/)"),),
)

STATUS = Action(
    name="status",
    summary="the campaign on one screen: phase, budget, trials, best, the live trial",
    func=f"{_C}:status",
    render=f"{_C}:render_status",
    group="campaign",
)

ANALYZE = Action(
    name="analyze",
    summary="trial table sorted by score, parameter importances, learning curves of the top trials",
    func=f"{_C}:analyze",
    render=f"{_C}:render_analyze",
    group="campaign",
    params=(
        Param("plot", "path", help="write a PNG figure (score by trial, learning curves, importances)"),
        Param("top", "int", default=3, min=1, help="learning curves of this many best trials"),
    ),
)

CHECKPOINTS = Action(
    name="checkpoints",
    summary="kept checkpoints with their measured metrics (starter_kit_schedule/checkpoints/registry.yaml)",
    func=f"{_C}:checkpoints",
    render=f"{_C}:render_checkpoints",
    group="campaign",
    params=(
        Param("best", "bool", default=False, help="only the best-scoring checkpoint (of each env; a tie goes to "
              "the newest registration, and the output says when it was a tie)"),
        Param("env", help="only checkpoints of this env id"),
        Param("add", "path", help="score a run folder's best.pt (or a .pt file) with the campaign's evaluation and "
              "formula and register it, so --best, status and WAKE_UP.md weigh it (plain `vbot train` runs)"),
        Param("episodes", "int", min=1, help="with --add: evaluation episodes (default: the workspace template's "
              "evaluation.final_episodes, 32 as shipped, as a campaign's trials get; its seed too)"),
    ),
)

ACTIONS: list[Action] = [INIT, AUTOML, AUTOML_WORKER, TRIAL, STATUS, ANALYZE, CHECKPOINTS]
