"""The jobs screen: every action launched from the TUI, its live output, and stop."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Log, Static

from vbot_agent.agent.jobs import MAX_LINES, Job
from vbot_agent.tui.data import format_age
from vbot_agent.tui.messages import RequestAction

STATUS_STYLE = {"running": "cyan", "starting": "cyan", "stopping": "yellow", "finished": "green",
                "failed": "red", "stopped": "yellow"}


class JobsScreen(Screen):
    """Reads ``app.jobs`` whenever ``app.jobs_tick`` changes and appends only the new lines."""

    BINDINGS = [
        Binding("x", "stop", "Stop job", id="jobs.stop"),
        Binding("c", "clear_finished", "Clear done", id="jobs.clear"),
        Binding("l", "focus_log", "Log", id="jobs.log"),
        Binding("e", "edit", "Edit & rerun", id="jobs.edit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected: int | None = None
        self._written = 0  # lines of the selected job already in the log (counting dropped ones)
        self._seen: set[int] = set()  # job ids already listed; a new one is shown at once

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="jobs-main"):
            yield DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
            with Vertical(id="jobs-right"):
                yield Static("No jobs yet: press a (or ctrl+p) to run an action.", id="job-title")
                yield Log(id="job-log", max_lines=MAX_LINES, highlight=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#jobs-table", DataTable)
        table.add_column("id", key="id")
        table.add_column("status", key="status")
        table.add_column("time", key="time")
        table.add_column("command", key="command")
        self.watch(self.app, "jobs_tick", self.refresh_jobs)

    @property
    def jobs(self) -> list[Job]:
        return self.app.jobs

    def job(self, job_id: int | None) -> Job | None:
        return next((j for j in self.jobs if j.id == job_id), None)

    def refresh_jobs(self, _tick: int = 0) -> None:
        table = self.query_one("#jobs-table", DataTable)
        keys = {str(j.id) for j in self.jobs}
        for row_key in list(table.rows):
            if row_key.value not in keys:
                table.remove_row(row_key)
        now = time.time()
        for job in self.jobs:
            status = Text(job.status + ("" if job.returncode in (None, 0) else f" ({job.returncode})"),
                          style=STATUS_STYLE.get(job.status, ""))
            age = format_age((job.ended or now) - job.started)
            if str(job.id) in table.rows:
                table.update_cell(str(job.id), "status", status)
                table.update_cell(str(job.id), "time", age)
            else:
                table.add_row(str(job.id), status, age, " ".join(job.command[1:]), key=str(job.id))
        new = {j.id for j in self.jobs} - self._seen
        self._seen |= new
        if new:
            self.select(max(new))
        elif self.selected is None or self.job(self.selected) is None:
            newest = self.jobs[-1] if self.jobs else None
            self.select(newest.id if newest else None)
        else:
            self._append_new_lines()

    def select(self, job_id: int | None) -> None:
        """Show job ``job_id`` in the log pane (from its first kept line)."""
        self.selected = job_id
        self._written = 0
        self.query_one("#job-log", Log).clear()
        job = self.job(job_id)
        if job is None:
            self.query_one("#job-title", Static).update("No jobs yet: press a (or ctrl+p) to run an action.")
            return
        table = self.query_one("#jobs-table", DataTable)
        if str(job_id) in table.rows:
            index = table.get_row_index(str(job_id))
            if table.cursor_row != index:
                table.move_cursor(row=index)
        self._append_new_lines()

    def _append_new_lines(self) -> None:
        job = self.job(self.selected)
        if job is None:
            return
        title = Text(f"#{job.id} ", style="bold")
        title.append(job.status, style=STATUS_STYLE.get(job.status, ""))
        title.append(f"  {job.title}", style="bold")
        if job.pid:
            title.append(f"  pid {job.pid}", style="dim")
        self.query_one("#job-title", Static).update(title)
        log = self.query_one("#job-log", Log)
        total = job.dropped + len(job.lines)
        if self._written < job.dropped:  # lines we never showed were dropped meanwhile
            log.clear()
            self._written = job.dropped
        if total > self._written:
            log.write_lines(job.lines[self._written - job.dropped:])
            self._written = total

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Highlights queued while rows were added arrive late; only the one at the cursor counts.
        if event.cursor_row != event.data_table.cursor_row:
            return
        if event.row_key is not None and event.row_key.value != str(self.selected):
            self.select(int(event.row_key.value))

    def action_stop(self) -> None:
        job = self.job(self.selected)
        if job is None or not job.running:
            self.notify("No running job selected.", severity="warning")
            return
        job.stop()
        self.notify(f"Stopping job #{job.id} (SIGINT, then SIGTERM/SIGKILL if it lingers).")
        self.refresh_jobs()

    def action_clear_finished(self) -> None:
        self.app.jobs[:] = [j for j in self.jobs if j.running]
        self.refresh_jobs()

    def action_focus_log(self) -> None:
        self.query_one("#job-log", Log).focus()

    def action_edit(self) -> None:
        job = self.job(self.selected)
        if job is None:
            self.notify("No job selected.", severity="warning")
            return
        self.post_message(RequestAction(job.action, job.values))
