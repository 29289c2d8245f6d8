"""The import contract: every arrow between the packages of vbot_agent points down.

Read with ``ast`` (nothing is imported), including imports inside functions: a lazy import is
still a dependency. The layers, lowest first, and what each may import besides itself:

    base        errors, config, fileio, enums, signals, tensorboard_tags, textout, the package __init__
    sim         base                      (physics, envs, reward terms)
    workspace   base                      (files of a workspace)
    rl          sim, workspace, base      (the PPO trainer)
    rewards     rl, sim, workspace, base  (audit, presets, diagnosis)
    deploy      rl, sim, workspace, base  (export, robustness grid)
    trials      rl, sim, workspace, base  (one trial)
    automl      trials and below          (the optuna campaign)
    curriculum  trials and below
    actions     everything below          (declarations; implementations are named by string)
    agent       actions and below         (skills, router, watcher)
    cli         actions and below
    tui         agent, actions and below
    mcp_server  agent, actions and below  (the MCP server: actions as tools)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vbot_agent"
BASE = {"errors", "config", "fileio", "enums", "signals", "tensorboard_tags", "textout", "__init__"}
BELOW_TRIALS = {"rl", "sim", "workspace", "base"}
ALLOWED = {
    "base": set(),
    "sim": {"base"},
    "workspace": {"base"},
    "rl": {"sim", "workspace", "base"},
    "rewards": {"rl", "sim", "workspace", "base"},
    "deploy": {"rl", "sim", "workspace", "base"},
    "trials": BELOW_TRIALS,
    "automl": {"trials", *BELOW_TRIALS},
    "curriculum": {"trials", *BELOW_TRIALS},
    "actions": {"automl", "curriculum", "rewards", "deploy", "trials", *BELOW_TRIALS},
    "agent": {"actions", "automl", "curriculum", "rewards", "deploy", "trials", *BELOW_TRIALS},
    "cli": {"actions", "base"},
    "tui": {"agent", "actions", "workspace", "base"},
    "mcp_server": {"agent", "actions", "workspace", "base"},
}


def layer_of(module: str) -> str:
    """``vbot_agent.rl.ppo`` -> ``rl``; a top-level module is its own layer unless it is a base one."""
    parts = module.split(".")
    if len(parts) == 1:
        return "base"
    return "base" if parts[1] in BASE else parts[1]


def imports_of(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``vbot_agent`` import in ``path``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == "vbot_agent":
            # ``from vbot_agent import rl`` imports a layer; ``import __version__`` the package itself
            names = [f"vbot_agent.{a.name}" if (package / a.name).is_dir() or (package / f"{a.name}.py").is_file()
                     else "vbot_agent" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n == "vbot_agent" or n.startswith("vbot_agent.")]
    return found


def violations(package: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(package.rglob("*.py")):
        source = layer_of(".".join(path.relative_to(package.parent).with_suffix("").parts))
        for line, module in imports_of(path, package):
            target = layer_of(module)
            if target != source and target not in ALLOWED[source]:
                out.append(f"{path.relative_to(package.parent)}:{line}: {source} imports {module} ({target})")
    return out


def test_every_layer_is_known():
    layers = {layer_of(f"vbot_agent.{p.stem if p.is_file() else p.name}") for p in PACKAGE.iterdir()
              if (p.suffix == ".py" or (p / "__init__.py").exists())}
    assert layers <= set(ALLOWED), layers - set(ALLOWED)


def test_no_arrow_points_up():
    assert violations() == []


@pytest.mark.parametrize(("layer", "module", "imported"), [
    ("sim", "sim/bad.py", "vbot_agent.rl.ppo"),
    ("rl", "rl/bad.py", "vbot_agent.automl.campaign"),
    ("workspace", "workspace/bad.py", "vbot_agent.trials.trial"),
])
def test_an_upward_import_is_caught(tmp_path, layer, module, imported):
    package = tmp_path / "vbot_agent"
    (package / layer).mkdir(parents=True)
    (package / module).write_text(f"def later():\n    from {imported} import x\n")
    assert violations(package) == [f"vbot_agent/{module}:2: {layer} imports {imported} ({imported.split('.')[1]})"]


def module_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the vbot_agent modules it imports (any depth, lazy imports included)."""
    files = {}
    for path in package.rglob("*.py"):
        name = ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
        files[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found |= {m for m in (node.module, *(f"{node.module}.{a.name}" for a in node.names)) if m in files}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name in files}
        graph[name] = found - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph`` (strongly connected groups of more than one module), Tarjan's way."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert cycles(module_graph()) == []


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_class_name_is_defined_twice():
    seen: dict[str, str] = {}
    twice = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                where = str(path.relative_to(PACKAGE.parent))
                if node.name in seen:
                    twice.append(f"{node.name}: {seen[node.name]} and {where}")
                seen.setdefault(node.name, where)
    assert twice == []
