"""The reward library: documented reward presets and archived tried configs (``starter_kit_schedule/reward_library/``).

A preset is one YAML file: ``name`` (= the file's stem), ``kind`` (default | exploit | historical |
archived), ``summary``, ``description``, ``expect`` (the exploits ``vbot reward audit`` must flag,
``[]`` = must pass) and ``reward:`` (scales and shaping constants, as in a training config);
optionally ``env:``. Archived entries live in ``archive/`` and add ``outcome``, ``run``,
``metrics`` and ``audit``. Entries are never overwritten: an archive write fails if the name exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from vbot_agent.errors import UsageError, suggest

KINDS = ("default", "exploit", "historical", "archived")
ARCHIVE = "archive"
REQUIRED = ("name", "kind", "summary", "reward")
OPTIONAL = ("description", "expect", "env", "outcome", "run", "metrics", "audit", "archived_at", "source")


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str
    summary: str
    reward: dict[str, Any]
    path: Path
    description: str = ""
    expect: tuple[str, ...] = ()
    env: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def listing(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "summary": self.summary,
                "expect": list(self.expect) or "pass", "path": str(self.path)}


def library_dir(root: Path) -> Path:
    from vbot_agent.workspace import Paths

    return Paths(root).reward_library


def load_preset(path: Path) -> Preset:
    """Read and check one preset file; UsageError naming the file and the problem."""
    from vbot_agent.config import load_yaml
    from vbot_agent.rewards.audit import EXPLOITS
    from vbot_agent.sim.rewards import RewardConfig

    data = load_yaml(path)
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise UsageError(f"{path}: missing field(s) {', '.join(missing)}")
    unknown = [k for k in data if k not in REQUIRED + OPTIONAL]
    if unknown:
        raise UsageError(f"{path}: unknown field {unknown[0]!r}{suggest(unknown[0], list(REQUIRED + OPTIONAL))}")
    if data["name"] != path.stem:
        raise UsageError(f"{path}: name {data['name']!r} must equal the file name {path.stem!r}")
    if data["kind"] not in KINDS:
        raise UsageError(f"{path}: kind {data['kind']!r} is not one of {', '.join(KINDS)}")
    if not isinstance(data["reward"], dict):
        raise UsageError(f"{path}: reward: must be a mapping with scales:")
    from vbot_agent.config import from_mapping

    try:
        from_mapping(RewardConfig, data["reward"], where="reward")  # validates term names and values
    except UsageError as exc:
        raise UsageError(f"{path}: {exc}") from None
    expect = data.get("expect") or []
    bad = [e for e in expect if e not in EXPLOITS.values()]
    if bad:
        raise UsageError(f"{path}: expect {bad[0]!r} is not an audit exploit; valid: {', '.join(EXPLOITS.values())}")
    return Preset(
        name=data["name"], kind=data["kind"], summary=str(data["summary"]), reward=data["reward"], path=path,
        description=str(data.get("description") or ""), expect=tuple(expect), env=data.get("env"),
        extra={k: data[k] for k in ("outcome", "run", "metrics", "audit", "archived_at", "source") if k in data},
    )


def list_presets(root: Path) -> list[Preset]:
    """Every preset of the workspace's library, archived entries last."""
    folder = library_dir(root)
    if not folder.is_dir():
        raise UsageError(f"no reward library at {folder}; create the workspace with `vbot init`")
    files = sorted(folder.glob("*.yaml")) + sorted((folder / ARCHIVE).glob("*.yaml"))
    return [load_preset(p) for p in files]


def get_preset(root: Path, name: str) -> Preset:
    presets = {p.name: p for p in list_presets(root)}
    if name not in presets:
        raise UsageError(f"no reward preset {name!r}{suggest(name, list(presets))}; "
                         f"run `vbot reward list` (have: {', '.join(presets) or 'none'})")
    return presets[name]


def archive_config(root: Path, *, reward: dict[str, Any], env: dict[str, Any] | None, outcome: str, name: str,
                   source: str, run: str | None = None, metrics: dict[str, Any] | None = None,
                   audit: dict[str, Any] | None = None, summary: str | None = None,
                   now: datetime | None = None) -> Path:
    """Write a new archived entry; UsageError if ``name`` exists (entries are never overwritten)."""
    import yaml

    from vbot_agent.config import to_dict

    if not outcome.strip():
        raise UsageError("--outcome must say what happened (e.g. 'success 0.62 after 20M steps, no falls')")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_")
    if not safe:
        raise UsageError(f"--name {name!r} has no usable characters")
    folder = library_dir(root) / ARCHIVE
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{safe}.yaml"
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = {
        "name": safe,
        "kind": "archived",
        "summary": summary or outcome.strip().splitlines()[0][:100],
        "outcome": outcome.strip(),
        "archived_at": stamp,
        "source": source,
        "run": run,
        "metrics": to_dict(metrics or {}),
        "audit": to_dict(audit) if audit else None,
        "reward": to_dict(reward),
    }
    if env:
        entry["env"] = to_dict(env)
    text = "# Archived by `vbot reward archive`; never overwritten.\n" + yaml.safe_dump(entry, sort_keys=False)
    # Write a temp file, then link it to the final name: link fails if the name exists, so an
    # entry can never be overwritten, even by two archives racing.
    tmp = folder / f".{safe}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise UsageError(f"archive entry {target} exists; entries are never overwritten, pass another --name") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target
