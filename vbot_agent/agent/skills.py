"""Loading skill files: ``skills/<name>/SKILL.md`` with YAML front-matter and a Markdown body.

The front-matter is plain Agent Skills (``name``, ``description``, optional ``license``,
``compatibility``, ``allowed-tools``, ``metadata``). Our routing fields live under ``metadata`` as
strings, so the front-matter stays spec-clean (the spec says metadata maps strings to strings):

    metadata:
      actions: |              # one registered action per line, with flags; the first is the default,
                              # so make it a read-only one (status, audit) where the skill has one
        automl --mode stage --budget-hours 8
        automl --resume
      triggers: |             # phrases a user might type; one per line
        run a campaign overnight
      related: training-pipeline, curriculum-learning

Everything loaded here keeps its line number in SKILL.md, so the linter and the router can say
``skills/foo/SKILL.md:12: ...``. Loading never imports the action registry.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vbot_agent.errors import UsageError

SKILL_FILE = "SKILL.md"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present; same results, faster
METADATA_KEYS = ("actions", "triggers", "related")


@dataclass(frozen=True)
class Located:
    """A piece of text and the 1-based line of SKILL.md it came from."""

    text: str
    line: int


@dataclass(frozen=True)
class SkillIssue:
    """One problem in one skill file: ``path:line: message``."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{_display(self.path)}:{self.line}: {self.message}"


class SkillFileError(UsageError):
    """A SKILL.md that cannot be read at all (no front-matter, bad YAML). Carries the line."""

    def __init__(self, issue: SkillIssue):
        super().__init__(str(issue))
        self.issue = issue


@dataclass
class Skill:
    """One parsed SKILL.md. ``actions[0]`` is the action ``vbot ask`` proposes by default."""

    path: Path
    name: str
    description: str
    front: dict[str, Any]
    key_lines: dict[str, int]
    body: str
    body_line: int
    actions: list[Located] = field(default_factory=list)
    triggers: list[Located] = field(default_factory=list)
    related: list[Located] = field(default_factory=list)
    headings: list[Located] = field(default_factory=list)
    commands: list[Located] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def summary(self) -> dict[str, Any]:
        """A JSON-serialisable description (``vbot skills list --json``)."""
        return {
            "name": self.name,
            "description": self.description,
            "path": str(self.path),
            "actions": [a.text for a in self.actions],
            "triggers": [t.text for t in self.triggers],
            "related": [r.text for r in self.related],
        }


def _display(path: Path) -> str:
    """A path as short as possible for messages: relative to the cwd when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def default_skills_dir() -> Path:
    """Where the skills live: ``$VBOT_SKILLS_DIR``, else ``skills/`` next to the package source."""
    env = os.environ.get("VBOT_SKILLS_DIR")
    if env:
        return Path(env).expanduser().resolve()
    import vbot_agent

    return Path(vbot_agent.__file__).resolve().parents[1] / "skills"


def skill_files(root: Path) -> list[Path]:
    """Every ``<root>/<name>/SKILL.md`` (sorted), or ``[root]`` when root is one SKILL.md file.

    Raises UsageError when root does not exist or holds no skills.
    """
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise UsageError(f"skills folder {root} does not exist; set VBOT_SKILLS_DIR or pass a folder")
    files = sorted(p / SKILL_FILE for p in root.iterdir() if (p / SKILL_FILE).is_file())
    if not files:
        raise UsageError(f"no <name>/{SKILL_FILE} under {root}")
    return files


def load_skills(root: Path | None = None) -> list[Skill]:
    """Load every skill under ``root`` (default: :func:`default_skills_dir`).

    Raises SkillFileError (a UsageError naming file and line) on the first unreadable skill;
    use ``vbot skills lint`` to see every problem at once.
    """
    return [load_skill(p) for p in skill_files(root or default_skills_dir())]


def find_skill(name: str, root: Path | None = None) -> Skill:
    """The skill called ``name``, or the one skill whose name starts with ``name`` (``curriculum``:
    ``curriculum-learning``); UsageError with suggestions when there is none."""
    from vbot_agent.errors import suggest

    skills = load_skills(root)
    for skill in skills:
        if skill.name == name:
            return skill
    starting = [s for s in skills if s.name.startswith(name)]
    if len(starting) == 1:
        return starting[0]
    names = [s.name for s in skills]
    raise UsageError(f"no skill named {name!r}" + suggest(name, names) + f"; skills: {', '.join(names)}")


def split_front_matter(path: Path, text: str) -> tuple[str, int]:
    """Return (front-matter text, 1-based line of the closing ``---``). Raises SkillFileError."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise SkillFileError(SkillIssue(path, 1, "SKILL.md must start with a '---' line opening the YAML front-matter"))
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "\n".join(lines[1:index]) + "\n", index + 1
    raise SkillFileError(SkillIssue(path, 1, "front-matter opened with '---' is never closed by a '---' line"))


def load_skill(path: Path) -> Skill:
    """Parse one SKILL.md. Raises SkillFileError (with the line) when it cannot be parsed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SkillFileError(SkillIssue(path, 1, f"cannot read: {exc}")) from None
    front_text, close_line = split_front_matter(path, text)
    try:
        loader = _Loader(front_text)
        try:
            node = loader.get_single_node()
            front = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else 2  # +1 for 1-based, +1 for the opening ---
        raise SkillFileError(SkillIssue(path, line, f"invalid YAML in front-matter: {exc.problem or exc}")) from None
    except yaml.YAMLError as exc:
        raise SkillFileError(SkillIssue(path, 2, f"invalid YAML in front-matter: {exc}")) from None
    if not isinstance(front, dict) or not isinstance(node, yaml.MappingNode):
        raise SkillFileError(SkillIssue(path, 2, "front-matter must be a YAML mapping (name: ..., description: ...)"))

    key_lines: dict[str, int] = {}
    value_spans: dict[str, tuple[int, int]] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        key_lines[key] = key_node.start_mark.line + 2
        if key == "metadata" and isinstance(value_node, yaml.MappingNode):
            for mkey, mvalue in value_node.value:
                key_lines[f"metadata.{mkey.value}"] = mkey.start_mark.line + 2
                value_spans[f"metadata.{mkey.value}"] = (mvalue.start_mark.line + 2, mvalue.end_mark.line + 2)

    lines = text.splitlines()
    metadata = front.get("metadata") if isinstance(front.get("metadata"), dict) else {}

    def entries(key: str, splitter: str) -> list[Located]:
        value = metadata.get(key)
        if not isinstance(value, str):
            return []
        items = [s.strip() for s in (value.splitlines() if splitter == "\n" else value.split(splitter))]
        items = [s for s in items if s and not s.startswith("#")]
        start, end = value_spans.get(f"metadata.{key}", (key_lines.get(f"metadata.{key}", 1),) * 2)
        return [Located(item, _line_of(lines, item, start, end)) for item in items]

    body_lines = lines[close_line:]
    name = front.get("name")
    description = front.get("description")
    return Skill(
        path=path,
        name=name if isinstance(name, str) else "",
        description=" ".join(description.split()) if isinstance(description, str) else "",
        front=front,
        key_lines=key_lines,
        body="\n".join(body_lines),
        body_line=close_line + 1,
        actions=entries("actions", "\n"),
        triggers=entries("triggers", "\n"),
        related=entries("related", ","),
        headings=_headings(body_lines, close_line + 1),
        commands=code_commands(body_lines, close_line + 1),
    )


def _line_of(lines: list[str], item: str, start: int, end: int) -> int:
    """The first line in [start, end] (1-based) that contains ``item``; ``start`` if none does."""
    for number in range(start, min(end, len(lines)) + 1):
        if item in lines[number - 1]:
            return number
    return start


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def _headings(body_lines: list[str], first_line: int) -> list[Located]:
    out, fence = [], None
    for offset, line in enumerate(body_lines):
        match = _FENCE.match(line)
        if match:
            fence = None if fence and match.group(1)[0] == fence else (fence or match.group(1)[0])
            continue
        if fence is None:
            heading = _HEADING.match(line)
            if heading:
                out.append(Located(heading.group(2), first_line + offset))
    return out


def code_commands(body_lines: list[str], first_line: int) -> list[Located]:
    """Every ``vbot ...`` command inside fenced code blocks, with its line.

    A leading ``$ `` prompt is dropped and backslash continuations are joined; the line reported
    is the first line of the command.
    """
    out: list[Located] = []
    fence: str | None = None
    pending: list[str] = []
    pending_line = 0
    for offset, raw in enumerate(body_lines):
        match = _FENCE.match(raw)
        if match:
            fence = None if fence and match.group(1)[0] == fence else (fence or match.group(1)[0])
            pending = []
            continue
        if fence is None:
            continue
        line = raw.strip()
        if pending:
            pending.append(line.rstrip("\\").strip())
            if not line.endswith("\\"):
                out.append(Located(" ".join(pending), pending_line))
                pending = []
            continue
        if line.startswith("$ "):
            line = line[2:].lstrip()
        if line == "vbot" or line.startswith("vbot "):
            if line.endswith("\\"):
                pending, pending_line = [line.rstrip("\\").strip()], first_line + offset
            else:
                out.append(Located(line, first_line + offset))
    return out


# Shell syntax that has no business in an action line or a documented vbot command:
# command chaining, pipes, redirection, subshells (substitution and variables are checked below).
SHELL_OPERATORS = (";", "&", "|", "<", ">", "(", ")")


def shell_text(command: str) -> str | None:
    """Why ``command`` is not a plain ``vbot`` argv (a shell operator, substitution...), or None."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
    except ValueError as exc:
        return f"cannot be split into words ({exc})"
    for token in tokens:
        if token and all(ch in "".join(SHELL_OPERATORS) for ch in token):
            return f"contains the shell operator {token!r}; only one plain vbot command is allowed"
    if "`" in command or "$(" in command:
        return "contains shell command substitution; only one plain vbot command is allowed"
    if re.search(r"\$\{?[A-Za-z_]", command):
        return "contains a shell variable; write the value itself"
    return None


def split_command(command: str) -> list[str]:
    """shlex words of a command with ``# comments`` dropped (call :func:`shell_text` first)."""
    return shlex.split(command, comments=True)
