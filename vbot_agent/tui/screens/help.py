"""The help screen: every key binding of the app and of each view, generated from the BINDINGS."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def bindings_table(sections: list[tuple[str, list[tuple[str, str]]]]) -> Table:
    table = Table(box=None, padding=(0, 2), show_header=False, expand=True)
    table.add_column("key", style="bold cyan", no_wrap=True)
    table.add_column("does")
    for title, bindings in sections:
        table.add_row(Text(title, style="bold underline"), "")
        for keys, description in bindings:
            table.add_row(keys, description)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the bindings; ``sections`` is ``[(title, [(keys, what they do), ...]), ...]``."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static("[b]vbot tui — keys[/b]   (esc closes; ctrl+p searches every action and skill)",
                         id="help-title")
            with VerticalScroll(id="help-body"):
                yield Static(bindings_table(self.sections))

    def action_dismiss(self) -> None:
        self.dismiss(None)
