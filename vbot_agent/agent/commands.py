"""The functions behind the agent actions (declared in ``vbot_agent/actions/agent_actions.py``)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from vbot_agent.agent.skills import default_skills_dir, find_skill, load_skills
from vbot_agent.errors import UsageError, VbotError

EXPORT_TARGETS = {"claude": Path(".claude") / "skills", "agents": Path(".agents") / "skills"}


def _skills_root(skills_dir: str | None) -> Path:
    return Path(skills_dir).expanduser().resolve() if skills_dir else default_skills_dir()


def skills_list(ctx, skills_dir: str | None = None) -> dict[str, Any]:
    """{"skills": [{name, description, path, actions, triggers, related}]}"""
    return {"skills": [s.summary() for s in load_skills(_skills_root(skills_dir))]}


def render_skills_list(result: dict[str, Any]) -> str:
    skills = result["skills"]
    width = max((len(s["name"]) for s in skills), default=0) + 2
    lines = []
    for s in skills:
        text = s["description"]
        text = text if len(text) <= 90 else text[:87].rsplit(" ", 1)[0] + " ..."
        names = dict.fromkeys(_action_name(a) for a in s["actions"])
        lines.append(f"{s['name']:<{width}}{text}")
        lines.append(f"{'':<{width}}actions: {', '.join(names)}")
    return "\n".join(lines)


def _action_name(line: str) -> str:
    """The action words of an action line (``automl worker`` of ``automl worker --storage X``)."""
    from vbot_agent.actions import REGISTRY

    words = line.split()
    action, _ = REGISTRY.longest_prefix(words)
    return action.name if action else " ".join(w for w in words if not w.startswith("-"))


def skills_show(ctx, name: str, skills_dir: str | None = None) -> dict[str, Any]:
    """The skill's summary plus its full text."""
    skill = find_skill(name, _skills_root(skills_dir))
    return {**skill.summary(), "text": skill.path.read_text(encoding="utf-8")}


def render_skills_show(result: dict[str, Any]) -> str:
    return result["text"].rstrip()


def skills_lint(ctx, path: str | None = None) -> dict[str, Any]:
    """Lint every skill; raise VbotError (exit 1) after printing the issues when any is found."""
    from vbot_agent.agent.lint import lint_result, lint_skills

    root = Path(path).expanduser().resolve() if path else default_skills_dir()
    skills, issues = lint_skills(root)
    result = lint_result(skills, issues)
    if issues:
        if ctx.json:
            import json

            print(json.dumps(result, indent=2), file=ctx.stdout)
        else:
            for issue in issues:
                print(issue, file=ctx.stdout)
        raise VbotError(f"{len(issues)} problem(s) in {len(skills)} skill(s) under {root}")
    return result


def render_skills_lint(result: dict[str, Any]) -> str:
    return f"{len(result['skills'])} skills OK: {', '.join(result['skills'])}"


def skills_export(ctx, target: str, dest: str | None = None, skills_dir: str | None = None) -> dict[str, Any]:
    """Copy each skill folder to ``<dest>/.claude/skills/<name>/`` (or ``.agents/skills``).

    Each skill is copied to a temp folder beside its destination and swapped in, so a reader never
    sees half a skill; skills of other origins in the destination are left alone.
    """
    root = _skills_root(skills_dir)
    skills = load_skills(root)
    project = Path(dest).expanduser().resolve() if dest else ctx.workspace()
    if not project.is_dir():
        raise UsageError(f"{project} is not a folder")
    out_dir = project / EXPORT_TARGETS[target]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for skill in skills:
        final = out_dir / skill.name
        staging = Path(tempfile.mkdtemp(prefix=f".{skill.name}.", dir=out_dir))
        try:
            shutil.copytree(skill.folder, staging / skill.name)
            if final.exists():
                old = out_dir / f".{skill.name}.old"
                shutil.rmtree(old, ignore_errors=True)
                final.rename(old)
                (staging / skill.name).rename(final)
                shutil.rmtree(old)
            else:
                (staging / skill.name).rename(final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        written.append(str(final))
    ctx.say(f"exported {len(written)} skills to {out_dir}")
    return {"target": target, "dir": str(out_dir), "skills": [s.name for s in skills], "paths": written}


def ask(ctx, task: str, run: bool = False, skills_dir: str | None = None) -> dict[str, Any]:
    """The ``vbot ask`` object (see vbot_agent.agent.ask.propose); with ``run``, plus ``result``."""
    from vbot_agent.actions import REGISTRY
    from vbot_agent.agent.ask import propose, run_proposal

    proposal = propose(task, load_skills(_skills_root(skills_dir)), REGISTRY)
    if run:
        proposal["result"] = run_proposal(proposal, REGISTRY, ctx)
    return proposal


def render_ask(result: dict[str, Any]) -> str:
    lines = [
        f"skill:   {result['skill']}   ({result['source']})",
        f"command: {result['command']}",
        f"why:     {result['why']}",
        "ranking: " + ", ".join(f"{r['skill']} {r['score']:g}" for r in result["ranking"][:4]),
    ]
    if "result" in result:
        from vbot_agent.actions.command_line import render_default

        lines += ["", render_default(result["result"])]
    else:
        lines.append("run it:  add --run, or copy the command")
    return "\n".join(lines)


def watch(ctx, snapshot: bool = False, watch: bool = False, interval: float = 10.0, poll: bool = False,
          duration: float | None = None, no_diagnosis: bool = False) -> dict[str, Any]:
    """Write WAKE_UP.md once, or keep it current until Ctrl-C / ``duration``."""
    from vbot_agent.agent.watcher import Watcher

    if snapshot and watch:
        raise UsageError("choose one of --snapshot and --watch")
    if poll and not watch:
        raise UsageError("--poll applies to --watch")
    root = ctx.workspace()
    watcher = Watcher(root, interval=interval, poll=poll, diagnosis=not no_diagnosis)
    if not watch:
        path = watcher.snapshot()
        return {"wake_up": str(path), "mode": "snapshot"}
    mode = "poll" if poll else "inotify"
    ctx.say(f"watching {root} ({mode}, refresh at least every {interval:g} s); WAKE_UP.md at {watcher.paths.wake_up}")
    try:
        watcher.run(duration=duration)
    except KeyboardInterrupt:
        ctx.say("stopped")
    return {"wake_up": str(watcher.paths.wake_up), "mode": mode, "refreshes": watcher.refreshes,
            "writes": watcher.writes}
