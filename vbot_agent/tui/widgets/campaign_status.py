"""The campaign status panel: id, status and liveness, phase, budget bar, trial counts, best."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from vbot_agent.tui.data import Liveness, Snapshot
from vbot_agent.workspace.search_health import state_warnings
from vbot_agent.workspace.state import curriculum_place, state_note

LIVENESS_STYLE = {"alive": "bold green", "finished": "bold cyan", "dead": "bold red", "stale": "bold yellow",
                  "unknown": "bold yellow"}
FINISHED_STYLE = {"complete": "bold green", "failed": "bold red", "stopped": "bold yellow",
                  "budget_exhausted": "bold yellow"}
LABEL_WIDTH = 9  # "campaign" and the grid's one-cell gap
SHORT_MAX_HEIGHT, TALL_MAX_HEIGHT, TALL_SCREEN = 9, 16, 40  # panel lines (with its border), screen rows


def campaign_head(automl_id: Any, status: Any, live: Liveness) -> Text:
    """``<id>  running ALIVE heartbeat 20s ago``; a finished campaign shows its final status once."""
    head = Text(str(automl_id), style="bold cyan")
    if live.label == "finished":  # the liveness only says "status <status>": say it once, as the outcome
        head.append(f"  {str(status).replace('_', ' ').upper()}", style=FINISHED_STYLE.get(str(status), "bold cyan"))
        return head
    head.append(f"  {status} ")
    head.append(live.label.upper(), style=LIVENESS_STYLE.get(live.label, "bold"))
    head.append(f" {live.detail}", style="dim")
    return head


def fit_path(path: str, width: int) -> str:
    """``path`` cut from the left to ``width`` cells (the file and its run folder matter most)."""
    if len(path) <= width or width < 2:
        return path
    return "…" + path[len(path) - width + 1:]


def budget_bar(elapsed: Any, budget: Any, width: int = 20) -> Text:
    """``█████░░░░ 2.5/8.0 h 31%``; a note when the numbers are missing."""
    if not isinstance(elapsed, (int, float)) or not isinstance(budget, (int, float)) or budget <= 0:
        return Text(f"{elapsed} / {budget} h", style="dim")
    frac = max(0.0, min(1.0, elapsed / budget))
    filled = round(frac * width)
    style = "green" if frac < 0.8 else "yellow" if frac < 1.0 else "red"
    text = Text("█" * filled, style=style)
    text.append("░" * (width - filled), style="dim")
    text.append(f" {elapsed:.1f}/{budget:.1f} h {frac:.0%}")
    return text


SHORT = {"success_rate": "success", "fall_rate": "fall", "competition_points": "points/robot"}


def _score(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, (int, float)) else "—"


def best_source(entry: dict[str, Any]) -> str:
    """Where a registry entry comes from, in a few words: ``trial 3``, ``final run``, ``stage flat``,
    ``a vbot train run``."""
    parts = str(entry.get("id", "?")).split("/")
    if entry.get("trial") is not None and parts[-1] != "final":
        return f"trial {entry['trial']}"
    if parts[0] == "curriculum":
        return f"stage {parts[-1]}"
    if parts[0] == "run":
        return "a vbot train run"
    return "final run" if parts[-1] == "final" else parts[-1]


class CampaignStatus(Static):
    """Shows the campaign part of a :class:`Snapshot` (set ``snapshot``; the panel redraws)."""

    snapshot: reactive[Snapshot | None] = reactive(None)

    def watch_snapshot(self, snapshot: Snapshot | None) -> None:
        self.update(self.build(snapshot))

    def on_resize(self) -> None:  # the checkpoint path is cut to the width
        # notes (a curriculum's message, search warnings, not-weighed runs) get more lines on a tall screen
        self.styles.max_height = TALL_MAX_HEIGHT if self.screen.size.height >= TALL_SCREEN else SHORT_MAX_HEIGHT
        self.update(self.build(self.snapshot))

    def build(self, snap: Snapshot | None) -> RenderableType:
        if snap is None:
            return Text("Reading the workspace…", style="dim italic")
        if snap.workspace is None:
            return Text.assemble(("No workspace. ", "bold red"), snap.workspace_error or "",
                                 ("\nSkills, actions and jobs still work: press 2, a or 4.", "dim"))
        if snap.state is None:
            style = "bold yellow" if (snap.state_error or "").startswith("No campaign") else "bold red"
            return Text.assemble(("Campaign: ", "bold"), (snap.state_error or "no state", style),
                                 ("\nworkspace ", "dim"), str(snap.workspace))
        state = snap.state
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        live = snap.liveness or Liveness("unknown", "")
        grid.add_row("campaign", campaign_head(state.get("automl_id"), state.get("status"), live))
        place = curriculum_place(state)
        stage = f" · stage {state['stage']}" if state.get("stage") and not place else ""
        # a curriculum has no search phase (its state's "done" is only for `automl --resume`): the mode says it
        phase = "" if place else f"{state.get('phase')} · "
        grid.add_row("phase" if not place else "mode", f"{phase}mode {state.get('mode')}{stage} · {state.get('env_id')}")
        room = self.content_size.width - LABEL_WIDTH
        if place:  # a curriculum has stages, not a budget or trials (as `vbot status`)
            grid.add_row("stage", f"{place['stage'] or '-'} ({place['stage_number']} of {place['stages']}), "
                                  f"curriculum {place['status']}")
        else:
            grid.add_row("budget", budget_bar(state.get("elapsed_hours"), state.get("budget_hours")))
            counts = Counter(str(t.get("state")) for t in snap.trials)
            parts = Text(f"{len(snap.trials)} ")
            for key, style in (("complete", "green"), ("running", "cyan"), ("pruned", "yellow"), ("fail", "red")):
                if counts.get(key):
                    parts.append(f"{key} {counts[key]} ", style=style)
            grid.add_row("trials", parts)
        best = snap.best
        if best:
            metrics = best.get("metrics") or {}
            extra = " ".join(f"{SHORT.get(k, k)} {_score(v)}" for k, v in metrics.items() if k in SHORT)
            grid.add_row("best", Text.assemble((f"score {_score(best.get('score'))}", "bold green"),
                                               (f" ({best_source(best)})", "dim"), f"  {extra}"))
            if best.get("checkpoint"):
                grid.add_row("ckpt", Text(fit_path(str(best["checkpoint"]), room), style="dim", no_wrap=True))
        else:
            grid.add_row("best", Text("none yet", style="dim"))
        note = state_note(state, short=True)
        notes = [Text(note, style="yellow")] if note else []
        # tied or floor scores (workspace/search_health.py): the sentences `vbot status` and WAKE_UP.md print
        notes += [Text(f"search: {w}", style="yellow") for w in state_warnings(state)]
        notes += [Text(note, style="yellow") for note in snap.unregistered]  # as `vbot status` and WAKE_UP.md
        return Group(grid, *notes) if notes else grid
