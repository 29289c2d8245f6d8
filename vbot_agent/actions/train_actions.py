"""Training actions: ``train``, ``play``, ``bench train`` (implemented in ``vbot_agent.rl.commands``)."""

from vbot_agent.actions.registry import Action, Param
from vbot_agent.sim.registry import ENV_IDS  # cheap: the ids and summaries, no mujoco

_ENV_HELP = ("env id: " + ", ".join(ENV_IDS) + " (`vbot envs` says what each is), gym:<Gymnasium id> "
             "(e.g. gym:Hopper-v5) or dummy:point_nav")

TRAIN = Action(
    name="train",
    summary="train a PPO policy (run folder runs/<env>/<time>_PPO with TensorBoard, checkpoints, progress.json)",
    func="vbot_agent.rl.commands:train",
    render="vbot_agent.rl.commands:render_train",
    group="training",
    long_running=True,
    params=(
        Param("env", help=_ENV_HELP + " (default: vbot_navigation_section001)"),
        Param("num_envs", "int", min=1, help="parallel envs (default: 1024)"),
        Param("max_env_steps", "int", min=1,
              help="stop once this many env steps are done (default: 20000000); training runs whole iterations "
                   "of num_envs x ppo.num_steps_per_env steps, so the last one may end past it"),
        Param("check_point_interval", "int", min=1,
              help="iterations between checkpoints and evaluations (default: 50)"),
        Param("seed", "int", help="random seed (default: 0)"),
        Param("device", help="cpu or cuda[:N] (default: cpu)"),
        Param("config", "path", help="YAML file (ppo:, policy:, eval:, env: options and reward: scales), a packaged "
              "preset's name (domain_randomization), or a run folder, curriculum stage folder, checkpoint, "
              "'latest' or 'best' (as for --checkpoint): that run's whole config (env options, reward, PPO, "
              "network, env count, seed) with evaluations on, e.g. to continue it with --checkpoint; flags and "
              "--set still override it"),
        Param("overrides", repeat=True, flag="--set",
              help="dotted key=value, repeatable, e.g. --set ppo.learning_rate=3e-4 --set reward.scales.arrival=10"),
        Param("resume", const="latest",
              help="continue a run: its folder, or 'latest' (the default when given alone)"),
        Param("checkpoint", "path", help="warm start a new run from this checkpoint's weights and normaliser: a "
              "checkpoint file, a run folder (a curriculum stage's kept best, else best.pt, else last.pt), a curriculum stage's folder (its best.pt), 'latest' or 'best' (of the env trained)"),
        Param("reset_optimizer", "bool", default=False, help="with --checkpoint: fresh Adam state"),
        Param("lr_multiplier", "float", min=0.0, help="with --checkpoint: multiply this run's ppo.learning_rate (1e-3 unless "
                                                         "--set or --config changes it; the checkpoint's own rate is not read)"),
        Param("freeze_normalizer", "bool", default=False,
              help="with --checkpoint: keep the loaded observation statistics fixed"),
        Param("dry_run", "bool", default=False,
              help="resolve and check everything (keys, values, env options, a warm start's sizes) and print what "
                   "would train, the learning rate after --lr-multiplier included; train nothing"),
    ),
    epilog=(
        "Runs go to <workspace>/runs/, or ./runs/ when no workspace is found.\n"
        "Ctrl-C (or SIGTERM) finishes the iteration, saves checkpoints/last.pt, prints the exact command\n"
        "that continues the run (vbot train --resume <run dir>) and exits 130.\n"
        "best_checkpoint_score (output and progress.json) ranks this run's checkpoints to pick best.pt:\n"
        "  success_rate - 0.5*fall_rate - 0.001*mean_final_distance_m on eval.episodes deterministic episodes\n"
        "  (mean return for envs without a target).\n"
        "It is not a campaign's trial score: `vbot analyze` prints that formula (score_formula), which also\n"
        "weighs competition points and time to target."
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
              help="checkpoint file, run folder (a curriculum stage's kept best, else best.pt, else last.pt), a curriculum stage's folder (its best.pt), 'latest' (the newest run's) or 'best' (the registry's best, as `vbot checkpoints --best`)"),
        Param("episodes", "int", default=32, min=1, max=4096,
              help="episodes (one per env); with --competition on section001, robots in rounds of 10; "
                   "on a course, one robot per episode"),
        Param("competition", "bool", default=False,
              help="competition rules: section001: 10 robots on a 10-12 m ring, points out of 20; a course "
                   "(section011/012/013, long_course): from START for the section's run time, points per item, "
                   "section and total, course time"),
        Param("video", "path",
              help="write an mp4 of the first robot's episode, streamed to the encoder (progress on stderr)"),
        Param("frames", "path",
              help="write a PNG contact sheet of the first robot's episode: 12 frames with time, distance, "
                   "speed and the largest reward terms, and a top-down map of its path"),
        Param("robot", "int", default=0, min=0, help="with --video/--frames: record this robot's episode (the output's "
              "robots_missed lists the first round's robots that did not reach the target)"),
        Param("seed", "int", default=0, help="episode seed"),
        Param("device", default="cpu", help="cpu or cuda[:N]"),
    ),
    epilog="mean_time_to_target_s averages the successful episodes only (a campaign's time_to_target_s counts "
           "a miss as the whole episode). On section001, competition_points is the mean of the rounds (out of "
           "competition_max_points, 20); competition_points_per_round lists each (their sum is the total).",
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

RUNS = Action(
    name="runs",
    summary="every training run: status, env steps, measured success and falls, best checkpoint, the command",
    func="vbot_agent.workspace.run_list:runs_action",
    render="vbot_agent.workspace.run_list:render_runs",
    group="training",
    params=(Param("env", help="only runs of this env id (see `vbot envs`)"),),
    epilog=("Status: running, finished, stopped (Ctrl-C, or its process is gone: `vbot train --resume RUN`\n"
            "continues it) or failed. Success and falls are measured by evaluation episodes, never training ones."),
)

ACTIONS: list[Action] = [TRAIN, PLAY, BENCH_TRAIN, RUNS]
