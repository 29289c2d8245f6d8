"""``vbot ask``: from a task in words to one validated action call (and, with ``--run``, its result).

Safety: the only thing a skill can make us run is a registered action, named in its front-matter
and parsed like a command line; its values go through the registry's validation, and every path
parameter must resolve inside the workspace (symlinks included). No text from a skill ever reaches
a shell.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vbot_agent.agent.lint import check_command
from vbot_agent.agent.router import choose_action, extract_values, rank
from vbot_agent.agent.skills import Skill
from vbot_agent.errors import UsageError

NOT_FROM_ASK = ("ask",)  # `vbot ask --run` must not recurse into itself


def propose(task: str, skills: list[Skill], registry) -> dict[str, Any]:
    """Rank ``skills`` for ``task`` and propose one action with validated parameters.

    Returns the ``vbot ask --json`` object: ``skill``, ``action``, ``params``, ``command``, ``why``,
    ``ranking``. Raises UsageError when no skill matches or the chosen action line is invalid.
    """
    if not task.strip():
        raise UsageError("say what you want to do, e.g. vbot ask \"resume the campaign\"")
    ranking = rank(task, skills)
    top = ranking[0]
    if top.score <= 0:
        raise UsageError(f"no skill matches {task!r}; see `vbot skills list` for what is covered")
    skill = top.skill
    if not skill.actions:
        raise UsageError(f"{skill.path}: skill {skill.name!r} names no action under metadata.actions")
    index, action_terms = choose_action(task, skill, registry)
    line = skill.actions[index]
    try:
        action, _, given = check_command(line.text, registry, where="action")
    except UsageError as exc:
        raise UsageError(f"{skill.path}:{line.line}: {exc}; run `vbot skills lint`") from None
    extracted = {k: v for k, v in extract_values(task).items() if any(p.name == k for p in action.params)}
    given = {**given, **extracted}
    params = action.validate(given)
    why = [f"skill {skill.name!r} scored {top.score:g}"]
    if top.phrases:
        why.append("trigger phrase(s) " + ", ".join(repr(p) for p in top.phrases))
    for field_name, terms in top.matched.items():
        why.append(f"{field_name} matched {', '.join(sorted(set(terms)))}")
    why.append(f"action line {index + 1} of {len(skill.actions)} ({line.text!r})"
               + (f" matched {', '.join(action_terms)}" if action_terms else " is the skill's default"))
    if extracted:
        why.append("values from the task: " + ", ".join(f"{k}={v}" for k, v in extracted.items()))
    return {
        "skill": skill.name,
        "action": action.name,
        "params": params,
        "command": " ".join(_quote(w) for w in action.command_line(given)),
        "why": "; ".join(why),
        "ranking": [{"skill": r.skill.name, "score": r.score,
                     "matched": sorted({t for terms in r.matched.values() for t in terms})} for r in ranking],
        "source": f"{skill.path}:{line.line}",
    }


def check_paths_inside(action, params: dict[str, Any], workspace: Path) -> None:
    """Refuse any path parameter that resolves outside ``workspace`` (UsageError)."""
    from vbot_agent.workspace import inside

    for p in action.params:
        if p.type != "path" or params.get(p.name) in (None, [], ""):
            continue
        for value in params[p.name] if p.repeat else [params[p.name]]:
            inside(workspace, value)


def run_proposal(proposal: dict[str, Any], registry, ctx) -> Any:
    """Validate the proposal again through the registry and run its action in ``ctx``."""
    action = registry.get(proposal["action"])
    if action.name in NOT_FROM_ASK:
        raise UsageError(f"`vbot ask --run` does not run {action.name!r}")
    params = action.validate(proposal["params"])
    if any(p.type == "path" and params.get(p.name) not in (None, [], "") for p in action.params):
        check_paths_inside(action, params, ctx.workspace())
    ctx.say(f"running: {proposal['command']}")
    return action.run(ctx, params)


def _quote(word: str) -> str:
    import shlex

    return shlex.quote(word)
