"""``vbot curriculum edit``: change a plan file's budgets, criteria or env options, keeping its comments.

A key is ``<stage>.<key>`` (``section011.steps``, ``section011.promote.success_rate``,
``section011.env.spawn.target_distance``, ``flat.overrides.reward.scales.stagnation``: what follows
``overrides.`` is one dotted config key) or a plan key (``num_envs``, ``evaluation.episodes``). Values
are YAML-typed as for ``vbot train --set``. The edited plan is validated exactly as ``curriculum run``
reads it and, for the curriculum in progress, checked against the stages it already finished, before
anything is written; the file is then replaced atomically, its comments and layout kept.

For the curriculum in progress the edit counts at once (``status``, ``advance`` and ``run`` read the
plan file as it is now): a stuck stage given more steps, or a bar it now clears, is no longer stuck,
and ``vbot curriculum run`` continues it. A curriculum running right now keeps the plan it loaded
until it is stopped and run again.
"""

from __future__ import annotations

import io
from copy import deepcopy
from pathlib import Path
from typing import Any

import yaml

from vbot_agent.config import parse_override
from vbot_agent.curriculum.plan import check_promotion, parse_plan
from vbot_agent.curriculum.records import (
    CurriculumStatus,
    StageStatus,
    adopt_plan,
    check_warm_paths,
    has_more_budget,
    resolve_plan_path,
    start_advice,
)
from vbot_agent.errors import UsageError
from vbot_agent.fileio import atomic_write_text
from vbot_agent.workspace import Paths
from vbot_agent.workspace.liveness import curriculum_next
from vbot_agent.workspace.lock import CampaignLocked, WorkspaceLock
from vbot_agent.workspace.state import load_state

PLAN_KEYS = ("name", "description", "num_envs", "seed", "evaluation", "train", "backend", "timeouts")


def edit_plan(root: Path, settings: list[str], plan: str | None, *, cwd: Path, say) -> dict[str, Any]:
    """Apply ``key=value`` settings to a plan file; returns the changes and what to run next."""
    if not settings:
        raise UsageError("nothing to change: give --set STAGE.KEY=VALUE, e.g. --set section011.steps=12000000")
    paths = Paths(root)
    state = load_state(paths.state_file) if paths.state_file.exists() else None
    cur = (state or {}).get("curriculum")
    if plan is not None:
        path = resolve_plan_path(root, plan, cwd)
    elif cur and cur.get("plan") and Path(cur["plan"]).is_file():
        path = Path(cur["plan"])
    else:
        raise UsageError("no curriculum in progress here to edit: name the plan with --plan NAME (a file, or a plan in "
                         f"{paths.schedule / 'curricula'})")
    path = path.resolve()
    if not path.is_relative_to(root.resolve()):
        raise UsageError(f"{path} is outside the workspace {root}; copy the plan into the workspace (e.g. "
                         f"{paths.schedule / 'curricula'}, where --plan NAME finds it) and edit the copy")
    source = path.read_text()
    doc, dumper = _round_trip(source, path)
    changes = [_apply(doc, setting) for setting in settings]
    text = _dump(doc, dumper)
    raw = _dump(doc, dumper, strip=False)
    if yaml.safe_load(text) != yaml.safe_load(raw):  # a trailing space that carried meaning: keep it
        text = raw
    new_plan = parse_plan(yaml.safe_load(text), str(path), default_name=path.stem)
    check_warm_paths(new_plan, root, str(path))
    in_progress = bool(cur) and Path(cur.get("plan") or "").resolve() == path and cur["plan_name"] == new_plan.name
    if in_progress:
        adopt_plan(deepcopy(cur), new_plan, path)  # refuses renamed or removed finished stages
    atomic_write_text(path, text)
    out: dict[str, Any] = {"plan": str(path), "plan_name": new_plan.name, "changes": changes, "in_progress": in_progress,
                           "stale_comments": stale_comments(text, changes)}
    if not in_progress:
        out["next"], out["note"] = start_advice(root, new_plan.name, plan)
        return out
    try:
        with WorkspaceLock(paths.automl_lock, "curriculum edit"):
            out.update(_unstick(root, cwd, say))
    except CampaignLocked:
        out.update(live=True, next="vbot curriculum status",
                   note="the file is edited, but a process holds this workspace (a curriculum run keeps the plan "
                        "it loaded): stop it (Ctrl-C), then `vbot curriculum run` trains with the edit")
    return out


def _unstick(root: Path, cwd: Path, say) -> dict[str, Any]:
    """Adopt the edited plan into the state; a stuck current stage that can now go on is stopped instead."""
    from vbot_agent.curriculum.session import CurriculumSession

    session = CurriculumSession.open(root, None, cwd, say, write=True)
    cur = session.cur
    i = cur["stage_index"]
    if i >= len(session.plan.stages):
        session.write(beat=False)
        return {"next": "vbot curriculum status", "note": "the plan is complete; the edit changes nothing that will run"}
    stage, rec = session.plan.stages[i], cur["stages"][i]
    check = check_promotion(stage.promote, rec["evaluations"])
    more_budget = has_more_budget(stage, rec)
    note = None
    if cur["status"] == CurriculumStatus.STUCK and (check.met or more_budget):
        why = "its criteria now hold" if check.met else f"its budget is now {stage.steps:,} env steps"
        note = f"stage {stage.name!r} was stuck; {why}, so `vbot curriculum run` continues it"
        cur.update(status=CurriculumStatus.STOPPED, message=f"plan edited: {note}")
    session.write(beat=False)
    if rec["status"] == StageStatus.STUCK and not (check.met or more_budget):
        note = (f"stage {stage.name!r} is still stuck: {'; '.join(check.failing)} and its budget "
                f"{stage.steps:,} env steps is used up")
    return {"current_stage": stage.name, "check": check.to_dict(), "note": note,
            "next": curriculum_next(cur)}


LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (2, 4, 0), (4, 4, 0))  # (mapping, sequence, offset): shipped plans, PyYAML, ...


def _round_trip(source: str, path: Path):
    """The plan loaded for a round trip, with the writer whose layout (indents, line width)
    reproduces the file as it is (else the one that changes fewest lines), so an edit changes only
    its own lines."""
    import difflib

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    dumper = YAML()  # round-trip: comments, flow mappings and key order survive
    try:
        doc = dumper.load(source)
    except YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("stages"), list):
        raise UsageError(f"{path}: not a curriculum plan (no stages: list)")
    lines = source.splitlines()
    # PyYAML folds long scalars at 80 columns, where this writer needs a few more to fold at the same word
    widths = sorted({*range(80, 90), max(80, *map(len, lines or [""])), 4096})
    tried = []
    for layout in LAYOUTS:
        for width in widths:
            _set_layout(dumper, layout, width)
            text = _dump(doc, dumper)
            if text.splitlines() == lines:
                return doc, dumper
            tried.append((sum(d[:1] in "+-" for d in difflib.ndiff(lines, text.splitlines())), layout, width))
    _, layout, width = min(tried, key=lambda t: t[0])
    _set_layout(dumper, layout, width)
    return doc, dumper


def _set_layout(dumper, layout: tuple[int, int, int], width: int) -> None:
    dumper.width = width
    dumper.indent(mapping=layout[0], sequence=layout[1], offset=layout[2])


def _dump(doc: Any, dumper, *, strip: bool = True) -> str:
    """The document as text; ``strip`` drops the trailing spaces the writer leaves where it folds a
    long plain scalar (``edit_plan`` checks that this changes no value before writing)."""
    buffer = io.StringIO()
    dumper.dump(doc, buffer)
    text = buffer.getvalue()
    return "".join(line.rstrip() + "\n" for line in text.splitlines()) if strip else text


def _apply(doc: dict[str, Any], setting: str) -> dict[str, Any]:
    """Set one ``key=value`` in the loaded plan; returns {key, old, new}."""
    parts, value = parse_override(setting)
    key = ".".join(parts)
    stages = {s.get("name"): s for s in doc["stages"] if isinstance(s, dict)}
    if parts[0] in stages and len(parts) > 1:
        node, rest = stages[parts[0]], parts[1:]
    elif parts[0] in PLAN_KEYS:
        node, rest = doc, parts
    else:
        raise UsageError(f"--set {setting}: {parts[0]!r} is neither a stage ({', '.join(map(str, stages))}) nor a plan "
                         f"key ({', '.join(PLAN_KEYS)}); write STAGE.KEY=VALUE, e.g. {next(iter(stages), 'stage')}.steps=N")
    if "overrides" in rest[:-1]:  # overrides: {reward.scales.stagnation: 0.0}: the rest is one config key
        cut = rest.index("overrides") + 1
        rest = [*rest[:cut], ".".join(rest[cut:])]
    for part in rest[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = _flow_map()
        if not isinstance(child, dict):
            raise UsageError(f"--set {setting}: {part!r} holds {child!r}, not a mapping")
        node = child
    old = node.get(rest[-1])
    node[rest[-1]] = value
    return {"key": key, "old": old if not hasattr(old, "items") else dict(old), "new": value}


def _spellings(value: Any) -> list[str]:
    """How a plan's comments may write ``value``: 128, 2000000 as 2,000,000 or 2M, 0.98."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or value == "":
        return []
    if isinstance(value, str):
        return [value]
    forms = {f"{value:g}", f"{value:,}"} if isinstance(value, int) else {f"{value:g}"}
    if isinstance(value, int) and value and value % 1_000_000 == 0:
        forms.add(f"{value // 1_000_000}M")
    if isinstance(value, float) and value.is_integer():
        forms.add(f"{int(value)}")
    return sorted(forms)


def stale_comments(text: str, changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The comment lines that still name an edited key's old value: an edit keeps the file's
    comments, which then may describe the plan as it was (``{key, old, lines}``)."""
    import re

    comments = [(i, line.split("#", 1)[1]) for i, line in enumerate(text.splitlines(), 1) if "#" in line]
    found = []
    for change in changes:
        if change["old"] == change["new"]:
            continue
        pattern = "|".join(re.escape(form) for form in _spellings(change["old"]))
        if not pattern:
            continue
        word = re.compile(rf"(?<![\w.,])(?:{pattern})(?![\w]|[.,]\d)")
        lines = [i for i, comment in comments if word.search(comment)]
        if lines:
            found.append({"key": change["key"], "old": change["old"], "lines": lines})
    return found


def _flow_map():
    from ruamel.yaml.comments import CommentedMap

    made = CommentedMap()
    made.fa.set_flow_style()
    return made


def render_edit(r: dict[str, Any]) -> str:
    lines = [f"edited {r['plan']} (plan {r['plan_name']!r})"]
    lines += [f"  {c['key']}: {c['old']} -> {c['new']}" for c in r["changes"]]
    check = r.get("check")
    if check:
        lines.append(f"stage {r['current_stage']!r} against the edited criteria: "
                     + ("met" if check["met"] else "not met: " + "; ".join(check["failing"])))
    if r.get("note"):
        lines.append(f"note  {r['note']}")
    for stale in r.get("stale_comments") or []:
        where = ", ".join(map(str, stale["lines"]))
        lines.append(f"check comment line{'s' if len(stale['lines']) > 1 else ''} {where}: still say{'' if len(stale['lines']) > 1 else 's'} "
                     f"{stale['old']} (the old {stale['key']}); an edit keeps the comments, so update them by hand")
    lines.append(f"next  {r['next']}")
    return "\n".join(lines)
