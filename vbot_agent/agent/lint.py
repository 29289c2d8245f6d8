"""``vbot skills lint``: every skill is spec-clean and true to the real CLI.

Checks, each reported as ``path:line: message``:

- the front-matter follows the Agent Skills spec (allowed fields, ``name`` = folder name and well
  formed, ``description`` ≤ 1024 characters, ``metadata`` maps strings to strings, block style only);
- our routing fields under ``metadata``: ``actions`` (each line one registered action whose flags
  parse and validate), ``triggers`` and ``related`` (existing skills);
- every ``vbot ...`` command in a fenced code block parses against the CLI, and its values are ones
  that exist (env ids, shipped presets, plans and files, ``--set`` keys);
- every number quoted about a shipped plan, preset or default matches it (``skill_facts``);
- no shell text (operators, substitution, variables) and no path outside the workspace, in either.
"""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from vbot_agent.agent.skills import (
    METADATA_KEYS,
    Located,
    Skill,
    SkillFileError,
    SkillIssue,
    shell_text,
    skill_files,
    split_command,
)
from vbot_agent.errors import UsageError, suggest

ALLOWED_FIELDS = ("name", "description", "license", "compatibility", "allowed-tools", "metadata")
MAX_NAME, MAX_DESCRIPTION, MAX_COMPATIBILITY = 64, 1024, 500


def resolve_command(argv: Sequence[str], registry=None) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Resolve a ``vbot`` argv (without ``vbot``) to ``(action, params, given)``.

    ``params`` are validated with defaults filled; ``given`` holds only the values written on the
    command line. It is the CLI's own parser (``actions.command_line.parse_given``), so a command the CLI refuses is
    refused here; ``registry`` None means the real one. Raises UsageError.
    """
    from vbot_agent.actions.command_line import parse_given

    action, given, _, _ = parse_given(argv, registry)
    return action, action.validate(given), action.validate(given, fill_defaults=False)


def outside_workspace(value: str) -> bool:
    """True when a path written in a skill could leave the workspace (absolute, ``~``, ``..``)."""
    text = str(value)
    if text.startswith(("/", "~", "\\")) or (len(text) > 1 and text[1] == ":"):
        return True
    normal = posixpath.normpath(text.replace("\\", "/"))
    return normal == ".." or normal.startswith("../")


def check_command(text: str, registry=None, *, where: str = "command") -> tuple[Any, dict, dict]:
    """Check one command written in a skill; return ``(action, params, given)`` or raise UsageError.

    Refuses shell text, commands that do not parse, and path values that leave the workspace.
    """
    problem = shell_text(text)
    if problem:
        raise UsageError(f"{where} {text!r} {problem}")
    argv = split_command(text)
    if argv and argv[0] == "vbot":
        argv = argv[1:]
    try:
        action, params, given = resolve_command(argv, registry)
    except UsageError as exc:
        raise UsageError(f"{where} {text!r} does not parse: {exc}") from None
    for p in action.params:
        if p.type == "path" and given.get(p.name) is not None:
            values = given[p.name] if p.repeat else [given[p.name]]
            for value in values:
                if outside_workspace(value):
                    raise UsageError(f"{where} {text!r}: path {value!r} for {p.option} leaves the workspace; "
                                     "use a path relative to the workspace")
    if registry is None:  # the real actions: their values can be checked against what ships
        try:
            check_values(action.name, given)
        except UsageError as exc:
            raise UsageError(f"{where} {text!r}: {exc}") from None
    return action, params, given


def check_values(action_name: str, given: dict[str, Any]) -> None:
    """The values a command gives, checked where it is cheap: env ids against the env registry,
    preset and plan names against what ``vbot init`` ships, shipped file paths against the seed,
    and ``--set`` keys against the trainer's (or the audit's) config. Raises UsageError.
    """
    from vbot_agent.workspace.init import SEED_DIR

    env = given.get("env")
    if env and not str(env).startswith("gym:"):
        from vbot_agent.rl.envs import check_env_id

        check_env_id(str(env))
    shipped = {"preset": ("reward_library", "all"), "name": ("reward_library", None), "plan": ("curricula", None)}
    for key, (folder, extra) in shipped.items():
        value = given.get(key)
        if value is None or (key == "name" and action_name != "reward show") or value == extra \
                or "/" in str(value) or str(value).endswith((".yaml", ".yml")):  # a file: the user's own
            continue
        names = sorted(p.stem for p in (SEED_DIR / folder).glob("*.yaml"))
        if str(value) not in names:
            raise UsageError(f"{key} {value!r} is not shipped{suggest(str(value), names)}; shipped: {', '.join(names)}")
    for value in [given.get("config"), given.get("plan")]:
        if value and str(value).startswith("starter_kit_schedule/") and \
                not (SEED_DIR / str(value).split("/", 1)[1]).is_file():
            raise UsageError(f"{value} is not a file that `vbot init` ships")
    overrides = given.get("overrides") or []
    if overrides and action_name in ("train", "bench train"):
        from vbot_agent.rl.config import resolve_train_config

        resolve_train_config(overrides=overrides, flags={"env_id": env} if env else {})
    elif overrides and action_name == "reward audit":
        from vbot_agent.actions.reward_actions import _apply_sets

        _apply_sets(None, None, overrides)


def lint_skills(root: Path, registry=None) -> tuple[list[Skill], list[SkillIssue]]:
    """Lint every skill under ``root`` (a skills folder or one SKILL.md).

    Returns (the skills that loaded, every issue found). ``registry`` None = the real one.
    """
    skills: list[Skill] = []
    issues: list[SkillIssue] = []
    for path in skill_files(root):
        try:
            skills.append(_load(path))
        except SkillFileError as exc:
            issues.append(exc.issue)
    names = {s.name for s in skills}
    # A single SKILL.md is linted beside its siblings so that `related` can name them.
    if Path(root).is_file():
        names |= {p.parent.name for p in skill_files(Path(root).parent.parent)}
    from vbot_agent.agent.skill_facts import check_skill_quotes

    for skill in skills:
        issues += lint_skill(skill, names, registry)
        issues += check_skill_quotes(skill)  # numbers quoted about shipped files and defaults
    return skills, sorted(issues, key=lambda i: (str(i.path), i.line))


def _load(path: Path) -> Skill:
    from vbot_agent.agent.skills import load_skill

    return load_skill(path)


def lint_skill(skill: Skill, skill_names: set[str], registry=None) -> list[SkillIssue]:
    """Every issue of one loaded skill (see the module docstring)."""
    issues: list[SkillIssue] = []

    def add(line: int, message: str) -> None:
        issues.append(SkillIssue(skill.path, line, message))

    issues += _spec_issues(skill)
    metadata = skill.front.get("metadata")
    if not isinstance(metadata, dict):
        add(skill.key_lines.get("metadata", 2), "metadata must be a mapping holding actions, triggers and related")
        return issues
    for key in metadata:
        if key not in METADATA_KEYS:
            add(skill.key_lines.get(f"metadata.{key}", 2),
                f"unknown metadata key {key!r}" + suggest(str(key), list(METADATA_KEYS))
                + f"; valid: {', '.join(METADATA_KEYS)}")
    for key in ("actions", "triggers"):
        if not getattr(skill, key):
            add(skill.key_lines.get(f"metadata.{key}", skill.key_lines.get("metadata", 2)),
                f"metadata.{key} is missing or empty (one entry per line)")

    for entry in skill.actions:
        try:
            check_command(entry.text, registry, where="action")
        except UsageError as exc:
            add(entry.line, str(exc))
    for entry in skill.related:
        if entry.text == skill.name:
            add(entry.line, f"related skill {entry.text!r} is this skill itself")
        elif entry.text not in skill_names:
            add(entry.line, f"related skill {entry.text!r} does not exist"
                + suggest(entry.text, sorted(skill_names)))
    for command in skill.commands:
        try:
            check_command(command.text, registry, where="command")
        except UsageError as exc:
            add(command.line, str(exc))
    if not skill.body.strip():
        add(skill.body_line, "the Markdown body is empty; say what to do and why")
    return issues


def _spec_issues(skill: Skill) -> list[SkillIssue]:
    """The Agent Skills front-matter rules (the same ones `agentskills validate` applies)."""
    out: list[SkillIssue] = []
    front, lines = skill.front, skill.key_lines

    def add(key: str, message: str) -> None:
        out.append(SkillIssue(skill.path, lines.get(key, 2), message))

    for key in front:
        if key not in ALLOWED_FIELDS:
            add(key, f"front-matter field {key!r} is not in the Agent Skills spec"
                + suggest(str(key), list(ALLOWED_FIELDS)) + "; put routing fields under metadata")
    name = front.get("name")
    if not isinstance(name, str) or not name.strip():
        add("name", "name is missing; it must equal the folder name")
    else:
        normal = unicodedata.normalize("NFKC", name.strip())
        if len(normal) > MAX_NAME:
            add("name", f"name is {len(normal)} characters; at most {MAX_NAME}")
        if normal != normal.lower() or not all(c.isalnum() or c == "-" for c in normal) \
                or normal.startswith("-") or normal.endswith("-") or "--" in normal:
            add("name", f"name {name!r} must be lowercase letters, digits and single inner hyphens")
        if normal != skill.folder.name:
            add("name", f"name {name!r} must equal the folder name {skill.folder.name!r}")
    description = front.get("description")
    if not isinstance(description, str) or not description.strip():
        add("description", "description is missing; say what the skill does and when to use it")
    elif len(description) > MAX_DESCRIPTION:
        add("description", f"description is {len(description)} characters; at most {MAX_DESCRIPTION}")
    compatibility = front.get("compatibility")
    if compatibility is not None and (not isinstance(compatibility, str) or len(compatibility) > MAX_COMPATIBILITY):
        add("compatibility", f"compatibility must be a string of at most {MAX_COMPATIBILITY} characters")
    metadata = front.get("metadata")
    if isinstance(metadata, dict):
        for key, value in metadata.items():
            if not isinstance(value, str):
                add(f"metadata.{key}", f"metadata.{key} must be a string (the spec maps strings to strings); "
                    "write lists one entry per line in a '|' block")
    # The reference validator splits the file on the first two '---' and parses with strictyaml,
    # which refuses flow style ({...} and [...]).
    text = skill.path.read_text(encoding="utf-8")
    front_text = text.split("\n", 1)[1].split("\n---", 1)[0] if "\n" in text else ""
    if "---" in front_text:
        out.append(SkillIssue(skill.path, 2, "'---' inside the front-matter breaks spec parsers; rephrase"))
    node = yaml.compose(front_text, Loader=yaml.SafeLoader) if front_text.strip() else None
    for flow in _flow_nodes(node):
        out.append(SkillIssue(skill.path, flow.start_mark.line + 2,
                              "flow style ({...} or [...]) is refused by the spec's strict YAML; use block style"))
    return out


def _flow_nodes(node) -> list:
    if node is None:
        return []
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        found = [node] if node.flow_style else []
        children = node.value if isinstance(node, yaml.SequenceNode) else [v for pair in node.value for v in pair]
        for child in children:
            found += _flow_nodes(child)
        return found
    return []


def lint_result(skills: list[Skill], issues: list[SkillIssue]) -> dict[str, Any]:
    """The JSON object of ``vbot skills lint --json``."""
    return {
        "ok": not issues,
        "skills": [s.name for s in skills],
        "issues": [{"path": str(i.path), "line": i.line, "message": i.message} for i in issues],
    }


__all__ = ["Located", "check_command", "lint_result", "lint_skill", "lint_skills", "outside_workspace",
           "resolve_command"]
