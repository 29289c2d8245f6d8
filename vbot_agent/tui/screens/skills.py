"""The skills browser: the list of skills, the selected SKILL.md as Markdown, its actions as buttons."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from vbot_agent.errors import UsageError
from vbot_agent.tui.data import SkillEntry, load_skill_entries, parse_action_line, skills_root
from vbot_agent.tui.messages import RequestAction


class SkillActionButton(Button):
    """A button that opens the form of one action line of a skill, pre-filled."""

    def __init__(self, line: str) -> None:
        self.line = line
        try:
            self.target, self.values = parse_action_line(line)
            problem = None
        except UsageError as exc:
            self.target, self.values, problem = None, {}, str(exc)
        super().__init__(f"▶ {line}", disabled=problem is not None,
                         classes="skill-action", tooltip=problem or f"open the form of `vbot {line}`")


class SkillsScreen(Screen):
    """Loads the skills in a worker thread when mounted; ``r`` reloads them."""

    PANES = Binding.Group("panes", compact=True)
    BINDINGS = [
        Binding("f", "focus_list", "Skill list", id="skills.list", group=PANES),
        Binding("b", "focus_actions", "Actions", id="skills.actions", group=PANES),
        Binding("m", "focus_body", "Markdown", id="skills.body", group=PANES),
        Binding("ctrl+l", "reload", "Reload", id="skills.reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[SkillEntry] = []
        self._pending: str | None = None
        self._shown: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="skills-main"):
            yield OptionList(id="skills-list")
            with Vertical(id="skills-right"):
                yield Static("Loading skills…", id="skill-title")
                yield Horizontal(id="skill-actions")
                with VerticalScroll(id="skill-body"):
                    yield Markdown("", id="skill-md")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.load_entries()

    @work(thread=True, exclusive=True, group="skills")
    def load_entries(self) -> None:
        workspace = self.app.reader.workspace
        root = skills_root(workspace, self.app.skills_dir)
        try:
            entries, error = load_skill_entries(root), None
        except UsageError as exc:
            entries, error = [], str(exc)
        self.app.call_from_thread(self._show_entries, entries, error)

    async def _show_entries(self, entries: list[SkillEntry], error: str | None) -> None:
        self.entries = entries
        options = self.query_one("#skills-list", OptionList)
        options.clear_options()
        for entry in entries:
            label = entry.name if entry.error is None else f"[red]✗ {entry.name}[/red]"
            options.add_option(Option(label, id=entry.name))
        if error:
            self.query_one("#skill-title", Static).update(f"[red]{error}[/red]")
            return
        wanted = self._pending or (entries[0].name if entries else None)
        self._pending = None
        if wanted:
            await self.show_skill(wanted)

    async def show_skill(self, name: str) -> None:
        """Select skill ``name`` (waits for loading when called early)."""
        entry = next((e for e in self.entries if e.name == name), None)
        if entry is None:
            if not self.entries:
                self._pending = name
            else:
                self.notify(f"no skill named {name!r}", severity="error")
            return
        options = self.query_one("#skills-list", OptionList)
        index = options.get_option_index(name)
        self._shown = entry.name
        if options.highlighted != index:
            options.highlighted = index
        await self._render_entry(entry)

    async def _render_entry(self, entry: SkillEntry) -> None:
        self._shown = entry.name
        title = self.query_one("#skill-title", Static)
        actions = self.query_one("#skill-actions", Horizontal)
        await actions.remove_children()
        if entry.error:
            title.update(f"[b]{entry.name}[/b]\n[red]{entry.error}[/red]")
            self.query_one("#skill-md", Markdown).update("")
            return
        title.update(f"[b]{entry.name}[/b] — {entry.description}")
        await actions.mount_all(SkillActionButton(line) for line in entry.actions)
        actions.display = bool(entry.actions)
        self.query_one("#skill-md", Markdown).update(entry.body)
        self.query_one("#skill-body").scroll_home(animate=False)

    @on(OptionList.OptionHighlighted, "#skills-list")
    async def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        entry = next((e for e in self.entries if e.name == event.option.id), None)
        if entry is not None and entry.name != self._shown:
            await self._render_entry(entry)

    @on(OptionList.OptionSelected, "#skills-list")
    def _selected(self) -> None:
        self.action_focus_actions()

    @on(Button.Pressed, ".skill-action")
    def _action_pressed(self, event: Button.Pressed) -> None:
        button = event.button
        assert isinstance(button, SkillActionButton)
        if button.target is not None:
            self.post_message(RequestAction(button.target.name, button.values))

    def action_focus_list(self) -> None:
        self.query_one("#skills-list").focus()

    def action_focus_actions(self) -> None:
        buttons = [b for b in self.query(SkillActionButton) if not b.disabled]
        if buttons:
            buttons[0].focus()

    def action_focus_body(self) -> None:
        self.query_one("#skill-body").focus()
