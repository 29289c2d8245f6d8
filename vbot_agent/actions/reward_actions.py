"""Reward actions: ``reward audit|list|show|archive`` and ``diagnose-reward`` (declarations; the
functions are in ``vbot_agent.rewards.commands``)."""

from __future__ import annotations

from vbot_agent.actions.registry import Action, Param

_SET = Param("overrides", repeat=True, flag="--set",
             help="reward.*/env.* key=value on top of the config, e.g. --set reward.scales.alive=0")

ACTIONS = [
    Action(
        name="reward audit",
        summary="episode return of reference behaviours under a reward config; flags exploitable rewards",
        func="vbot_agent.rewards.commands:reward_audit",
        render="vbot_agent.rewards.commands:render_reward_audit",
        group="reward",
        params=(
            Param("env", default=None, help="env id (default: the run's, else vbot_navigation_section001)"),
            Param("config", type="path", default=None, inside_workspace=True,
                  help="YAML with a reward: section (and optionally env:), or a run's experiment_meta.json"),
            Param("preset", default=None, help="a reward library preset by name, or 'all' (see `vbot reward list`)"),
            Param("run", type="path", default=None, inside_workspace=True, help="audit a training run's reward config"),
            _SET,
            Param("distance", type="float", default=None, min=0.5, max=50.0,
                  help="spawn-to-target distance in m (default: the far end of the spawn range)"),
        ),
        epilog=("Behaviours: walk_and_stop (the right one), stand_still, hover_at_edge, reach_and_farm,\n"
                "sprint_and_fall, fall_at_once. A config is flagged when a wrong behaviour comes within\n"
                "max(1, 10% of walk_and_stop) of it, or standing earns over half of it. Exit 0 either way;\n"
                "read `passed` in --json."),
    ),
    Action(
        name="reward list",
        summary="list the reward library's presets and archived configs",
        func="vbot_agent.rewards.commands:reward_list",
        render="vbot_agent.rewards.commands:render_reward_list",
        group="reward",
    ),
    Action(
        name="reward show",
        summary="show a reward preset (description, scales, what each term pays, expected audit verdict), "
                "or with --run the reward a training run used and what each term paid",
        func="vbot_agent.rewards.commands:reward_show",
        render="vbot_agent.rewards.commands:render_reward_show",
        group="reward",
        params=(Param("name", default=None, positional=True, help="preset name (see `vbot reward list`)"),
                Param("run", default=None, help="a run folder or 'latest' instead of a preset: its resolved "
                                                "scales and each term's per-step value at the end of the run")),
    ),
    Action(
        name="reward archive",
        summary="store a tried reward config with its outcome and metrics in the library (never overwrites)",
        func="vbot_agent.rewards.commands:reward_archive",
        group="reward",
        params=(
            Param("config", type="path", default=None, inside_workspace=True,
                  help="YAML with the reward: section you tried (default: the run's)"),
            Param("outcome", required=True, help="what happened, in words (e.g. 'stood still, success 0')"),
            Param("run", type="path", default=None, inside_workspace=True,
                  help="the training run: its final metrics are stored too"),
            Param("name", default=None, help="entry name (default: <time>_<config or run name>)"),
            Param("audit", type="bool", default=False, help="also store the audit verdict (~2 s)"),
        ),
    ),
    Action(
        name="diagnose-reward",
        summary="find reward pathologies in a run's config (reward audit included) and TensorBoard series; "
                "each with evidence, fix and test command",
        func="vbot_agent.rewards.commands:diagnose_reward",
        render="vbot_agent.rewards.commands:render_diagnose",
        group="reward",
        params=(
            Param("run", default="latest", positional=True, help="run folder, or 'latest'"),
            Param("rollout", type="bool", default=False,
                  help="also roll out the run's checkpoint (best.pt, else last.pt) and use its measured metrics"),
            Param("episodes", type="int", default=32, min=1, max=1024, help="rollout episodes"),
            Param("search_space", type="path", default=None, inside_workspace=True,
                  help="search space YAML: report its reward keys that this reward never uses"),
        ),
        epilog=("Cost: the reward audit it includes replays scripted behaviours under the run's reward (a few\n"
                "robots, seconds of simulated time: about 2 s of CPU on the flat arena, up to ~15 s on a course);\n"
                "nothing trains, and the policy is rolled out only with --rollout. `vbot watch` diagnoses the three\n"
                "newest runs outside a campaign this way."),
    ),
]
