"""Training actions: ``train``, ``play``, ``bench train`` (implemented in ``vbot_agent.rl.commands``)."""

from vbot_agent.actions.registry import Action, Param

_ENV_HELP = "env id: vbot_navigation_section001, gym:<Gymnasium id> (e.g. gym:Hopper-v5) or dummy:point_nav"

TRAIN = Action(
    name="train",
    summary="train a PPO policy (run folder runs/<env>/<time>_PPO with TensorBoard, checkpoints, progress.json)",
    func="vbot_agent.rl.commands:train",
    group="training",
    long_running=True,
    params=(
        Param("env", help=_ENV_HELP + " (default: vbot_navigation_section001)"),
        Param("num_envs", "int", min=1, help="parallel envs (default: 1024)"),
        Param("max_env_steps", "int", min=1, help="stop after this many env steps (default: 20000000)"),
        Param("check_point_interval", "int", min=1,
              help="iterations between checkpoints and evaluations (default: 50)"),
        Param("seed", "int", help="random seed (default: 0)"),
        Param("device", help="cpu or cuda[:N] (default: cpu)"),
        Param("config", "path", help="YAML file: ppo:, policy:, eval:, env: options and reward: scales"),
        Param("overrides", repeat=True, flag="--set",
              help="dotted key=value, repeatable, e.g. --set ppo.learning_rate=3e-4 --set reward.scales.arrival=10"),
        Param("resume", const="latest",
              help="continue a run: its folder, or 'latest' (the default when given alone)"),
        Param("checkpoint", "path", help="warm start a new run from this checkpoint's weights and normaliser"),
        Param("reset_optimizer", "bool", default=False, help="with --checkpoint: fresh Adam state"),
        Param("lr_multiplier", "float", min=0.0, help="with --checkpoint: multiply the learning rate"),
        Param("freeze_normalizer", "bool", default=False,
              help="with --checkpoint: keep the loaded observation statistics fixed"),
    ),
    epilog=(
        "Runs go to <workspace>/runs/, or ./runs/ when no workspace is found.\n"
        "Ctrl-C (or SIGTERM) finishes the iteration, saves checkpoints/last.pt and stops; "
        "`vbot train --resume` continues it exactly."
    ),
)

PLAY = Action(
    name="play",
    summary="run deterministic episodes of a checkpoint: success, fall rate, return, time to target",
    func="vbot_agent.rl.commands:play",
    group="training",
    long_running=True,
    params=(
        Param("env", help=_ENV_HELP + " (default: the checkpoint's env)"),
        Param("policy", default="latest",
              help="checkpoint file, run folder (best.pt, else last.pt) or 'latest'"),
        Param("episodes", "int", default=32, min=1, max=4096,
              help="episodes (one per env); with --competition, robots (rounds of 10)"),
        Param("competition", "bool", default=False,
              help="competition rules: section001: 10 robots on a 10-12 m ring, points out of 20; a course "
                   "(section011/012/013, long_course): from START for the section's run time, points per item, "
                   "section and total, course time"),
        Param("video", "path", help="write an mp4 of the first robot (headless rendering)"),
        Param("seed", "int", default=0, help="episode seed"),
        Param("device", default="cpu", help="cpu or cuda[:N]"),
    ),
)

BENCH_TRAIN = Action(
    name="bench train",
    summary="training env steps/s vs physics-only env steps/s of the same env, measured in one run",
    func="vbot_agent.rl.commands:bench_train",
    group="benchmarks",
    long_running=True,
    params=(
        Param("env", default="vbot_navigation_section001", help=_ENV_HELP),
        Param("num_envs", "int", min=1, help="parallel envs (default: the default config's)"),
        Param("iterations", "int", default=5, min=1, help="timed training iterations (after one warm-up), each paired with a physics-only rollout"),
        Param("config", "path", help="YAML config as for train"),
        Param("overrides", repeat=True, flag="--set", help="dotted key=value as for train"),
    ),
)

ACTIONS: list[Action] = [TRAIN, PLAY, BENCH_TRAIN]
