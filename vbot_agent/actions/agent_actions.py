"""Actions of the agent layer: skills, `vbot ask`, and the WAKE_UP.md watcher."""

from vbot_agent.actions.registry import Action, Param

_SKILLS_DIR = Param("skills_dir", "path", help="skills folder (default: $VBOT_SKILLS_DIR, else the repository's skills/)")
_FN = "vbot_agent.agent.commands:"

ACTIONS: list[Action] = [
    Action(
        name="skills list",
        summary="list the agent skills with their actions",
        func=_FN + "skills_list",
        render=_FN + "render_skills_list",
        params=(_SKILLS_DIR,),
        group="agent",
    ),
    Action(
        name="skills show",
        summary="print one skill (SKILL.md) and the actions it names",
        func=_FN + "skills_show",
        render=_FN + "render_skills_show",
        params=(Param("name", required=True, positional=True, help="skill name, e.g. training-campaign"), _SKILLS_DIR),
        group="agent",
    ),
    Action(
        name="skills lint",
        summary="check skills: spec front-matter, registered actions, and every vbot command shown",
        func=_FN + "skills_lint",
        render=_FN + "render_skills_lint",
        params=(Param("path", "path", positional=True,
                      help="a skills folder or one SKILL.md (default: the skills folder)"),),
        group="agent",
        epilog="Exit 0 when clean; 1 with one 'file:line: problem' line per issue.",
    ),
    Action(
        name="skills export",
        summary="copy the skills where coding agents look (.claude/skills or .agents/skills)",
        func=_FN + "skills_export",
        params=(
            Param("target", required=True, choices=("claude", "agents"), help="claude: .claude/skills, agents: .agents/skills"),
            Param("dest", "path", positional=True, help="project folder to export into (default: the workspace)"),
            _SKILLS_DIR,
        ),
        group="agent",
    ),
    Action(
        name="ask",
        summary="pick the skill and action for a task in words; --run runs it",
        func=_FN + "ask",
        render=_FN + "render_ask",
        params=(
            Param("task", required=True, positional=True, help='what you want, in words (quote it)'),
            Param("run", "bool", default=False, help="run the proposed action after validation"),
            _SKILLS_DIR,
        ),
        group="agent",
    ),
    Action(
        name="watch",
        summary="write WAKE_UP.md (--snapshot) or keep it current (--watch)",
        func=_FN + "watch",
        params=(
            Param("snapshot", "bool", default=False, help="write WAKE_UP.md once and exit (the default)"),
            Param("watch", "bool", default=False, help="keep WAKE_UP.md current until Ctrl-C"),
            Param("interval", "float", default=10.0, min=0.05, max=3600.0,
                  help="seconds: refresh at least this often; with --poll, the polling period"),
            Param("poll", "bool", default=False, help="poll file stats instead of inotify (network/container file systems)"),
            Param("duration", "float", min=0.0, help="stop watching after this many seconds"),
            Param("no_diagnosis", "bool", default=False, help="do not run the reward diagnosis for the warnings"),
        ),
        group="agent",
        long_running=True,
    ),
    Action(
        name="mcp",
        summary="serve every action as an MCP tool over stdio, for coding agents (needs the mcp extra)",
        func="vbot_agent.mcp_server.server:serve",
        group="agent",
        epilog=("Register it with a coding agent, e.g. `claude mcp add vbot -- vbot mcp` (run from the workspace).\n"
                "Long actions become background jobs (job_status, job_log, job_stop); resources: vbot://wake-up,\n"
                "vbot://campaign/state, vbot://runs, vbot://skills/<name>. Runs until the client closes stdin."),
    ),
]
