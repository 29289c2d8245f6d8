"""`vbot tui`: the app wires the views (modes), global keys, the data refresh and the jobs.

Data flows down: a worker thread reads a :class:`~vbot_agent.tui.data.Snapshot` every
``refresh_s`` seconds and sets ``app.snapshot``; screens watch it. Intent flows up: screens post
``RequestAction`` / ``RequestSkill``; the app opens the form and launches the subprocess.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from vbot_agent.agent.jobs import Job, JobBook, run_job, vbot_argv
from vbot_agent.errors import UsageError
from vbot_agent.tui.commands import ActionCommands, VbotCommands
from vbot_agent.tui.data import Snapshot, WorkspaceReader, load_skill_entries, skills_root
from vbot_agent.tui.messages import RequestAction, RequestSkill
from vbot_agent.tui.screens.action_form import ActionFormScreen
from vbot_agent.tui.screens.dashboard import DashboardScreen
from vbot_agent.tui.screens.help import HelpScreen
from vbot_agent.tui.screens.jobs import JobsScreen
from vbot_agent.tui.screens.runs import RunsScreen
from vbot_agent.tui.screens.skills import SkillsScreen

QUIT_CONFIRM_S = 5.0  # a second `q` within this many seconds stops running jobs and quits


class VbotApp(App):
    """The vbot TUI. ``clock`` is injectable so tests can freeze "now"."""

    CSS_PATH = Path(__file__).parent / "app.tcss"
    TITLE = "vbot"
    COMMANDS = App.COMMANDS | {VbotCommands}
    MODES = {"dashboard": DashboardScreen, "skills": SkillsScreen, "runs": RunsScreen, "jobs": JobsScreen}
    DEFAULT_MODE = "dashboard"
    VIEWS = Binding.Group("views", compact=True)
    BINDINGS = [
        Binding("1", "switch_mode('dashboard')", "Dashboard", id="app.dashboard", group=VIEWS),
        Binding("2", "switch_mode('skills')", "Skills", id="app.skills", group=VIEWS),
        Binding("3", "switch_mode('runs')", "Runs", id="app.runs", group=VIEWS),
        Binding("4", "switch_mode('jobs')", "Jobs", id="app.jobs", group=VIEWS),
        Binding("a", "pick_action", "Action", id="app.action"),
        Binding("question_mark,f1", "help", "Help", id="app.help", key_display="?"),
        Binding("f5", "refresh_now", "Refresh now", show=False, id="app.refresh"),
        Binding("q", "quit_app", "Quit", id="app.quit"),
        Binding("ctrl+q", "quit_app", "Quit", show=False, id="app.quit2", priority=True),
    ]

    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True)
    jobs_tick: reactive[int] = reactive(0, always_update=True)

    def __init__(self, workspace: str | os.PathLike | None = None, *, refresh_s: float = 2.0,
                 clock: Callable[[], float] | None = None, skills_dir: str | os.PathLike | None = None,
                 tensorboard: bool = True) -> None:
        super().__init__()
        self.clock = clock or time.time
        self.reader = WorkspaceReader.open(workspace, clock=self.clock)
        self.refresh_s = refresh_s
        self.skills_dir = Path(skills_dir) if skills_dir else None
        self.read_curves = tensorboard
        self.job_book = JobBook()
        self.jobs: list[Job] = self.job_book.jobs  # the same list: the jobs screen reads and clears it
        self._quit_armed_at: float | None = None
        self._skill_names: list[str] | None = None
        self.sub_title = self.workspace_label

    @property
    def workspace_label(self) -> str:
        """The workspace folder's name for the header (its full path is on the dashboard)."""
        return self.reader.workspace.name if self.reader.workspace else "no workspace"

    # ----------------------------------------------------------------------------- data
    def on_mount(self) -> None:
        self.refresh_data()
        if self.refresh_s > 0:
            self.set_interval(self.refresh_s, self.refresh_data)

    @work(thread=True, exclusive=True, group="refresh")
    def refresh_data(self) -> None:
        """Read the workspace off the UI thread and hand the snapshot to the screens."""
        first = self.snapshot is None
        snap = self.reader.read(with_curves=self.read_curves and not first)
        self.call_from_thread(setattr, self, "snapshot", snap)
        if first and self.read_curves:  # show the files at once; TensorBoard (slow to import) follows
            curve, note = self.reader.best_curve(snap.best)
            self.call_from_thread(setattr, self, "snapshot", replace(snap, best_curve=curve, best_curve_note=note))

    def action_refresh_now(self) -> None:
        self.refresh_data()
        self.notify("Refreshing…", timeout=1)

    def skill_names(self) -> list[str]:
        if self._skill_names is None:
            try:
                self._skill_names = [e.name for e in load_skill_entries(
                    skills_root(self.reader.workspace, self.skills_dir))]
            except UsageError:
                self._skill_names = []
        return self._skill_names

    # ---------------------------------------------------------------------------- actions
    def action_pick_action(self) -> None:
        from textual.command import CommandPalette

        if not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(providers=[ActionCommands], placeholder="Run an action…"))

    def on_request_action(self, message: RequestAction) -> None:
        from vbot_agent.actions import REGISTRY

        try:
            action = REGISTRY.get(message.name)
        except UsageError as exc:
            self.notify(str(exc), severity="error")
            return
        self.push_screen(ActionFormScreen(action, message.prefill),
                         callback=lambda values: values is not None and self.launch(action.name, values))

    def on_request_skill(self, message: RequestSkill) -> None:
        self.switch_mode("skills")
        self.call_after_refresh(self._show_skill, message.name)

    async def _show_skill(self, name: str) -> None:
        screen = self.get_screen_stack("skills")[0]
        assert isinstance(screen, SkillsScreen)
        await screen.show_skill(name)

    def launch(self, action_name: str, values: dict[str, Any], argv: list[str] | None = None) -> Job:
        """Start ``vbot <action> <values>`` as a subprocess (``argv`` overrides what runs) and show it."""
        from vbot_agent.actions import REGISTRY

        command = REGISTRY.get(action_name).command_line(values)
        job = self.job_book.new(action_name, command, argv or vbot_argv(command, self.reader.workspace),
                                values=dict(values), cwd=self.reader.workspace, columns=max(60, self.size.width - 36))
        self.run_worker(run_job(job, self._job_output), group="jobs", name=f"job {job.id}", exit_on_error=False)
        self.switch_mode("jobs")
        self.notify(f"Started #{job.id}: {shlex.join(command)}", timeout=3)
        return job

    def _job_output(self, job: Job) -> None:
        running = sum(j.running for j in self.jobs)
        self.sub_title = self.workspace_label + (f" — {running} job(s) running" if running else "")
        self.jobs_tick += 1

    # ------------------------------------------------------------------------------- misc
    def action_help(self) -> None:
        def rows(bindings) -> list[tuple[str, str]]:
            out = []
            for b in bindings:
                if isinstance(b, Binding) and b.description:
                    keys = ", ".join(self.get_key_display(Binding(k.strip(), "")) for k in b.key.split(","))
                    out.append((keys, b.description))
            return out

        sections = [("Everywhere", rows(self.BINDINGS))]
        for node in (self.screen, self.focused):
            own = rows(getattr(node, "BINDINGS", []))
            if own and node is not None:
                sections.append((type(node).__name__.removesuffix("Screen") or "View", own))
        sections.append(("Tables and lists", [("↑ ↓ pgup pgdn", "move"), ("enter", "open / select"),
                                              ("tab, shift+tab", "next / previous pane"), ("esc", "close a dialog")]))
        sections.append(("Command palette", [("ctrl+p", "search every action, skill and view")]))
        self.push_screen(HelpScreen(sections))

    def action_quit_app(self) -> None:
        running = [j for j in self.jobs if j.running]
        now = time.monotonic()
        if running and (self._quit_armed_at is None or now - self._quit_armed_at > QUIT_CONFIRM_S):
            self._quit_armed_at = now
            self.notify(f"{len(running)} job(s) still running. Press q again to stop them and quit.",
                        severity="warning", timeout=QUIT_CONFIRM_S)
            return
        for job in running:
            job.stop()
        self.exit()


def run_tui(ctx, refresh: float = 2.0) -> None:
    """The `tui` action: run the app in this terminal until the user quits."""
    if ctx.json:
        raise UsageError("`vbot tui` is interactive; --json is not supported")
    VbotApp(ctx.workspace_override, refresh_s=refresh).run()
    return None
