"""The help screen: every key binding of the app and of each view, generated from the BINDINGS."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

Sections = list[tuple[str, list[tuple[str, str]]]]  # [(title, [(keys, what they do), ...]), ...]


def binding_rows(bindings: list, key_display: Callable[[Binding], str]) -> list[tuple[str, str]]:
    """(keys, description) of every binding with a description, hidden ones included."""
    out: dict[str, str] = {}  # description -> keys: two bindings for one thing share a row
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            keys = ", ".join(key_display(Binding(k.strip(), "")) for k in b.key.split(","))
            out[b.description] = f"{out[b.description]}, {keys}" if b.description in out else keys
    return [(keys, description) for description, keys in out.items()]


def help_sections(global_bindings: list, views: list[tuple[str, tuple[type, ...]]], current: type | None,
                  key_display: Callable[[Binding], str]) -> Sections:
    """The keys that work everywhere, then those of each view (``views``: title and the classes whose
    own BINDINGS act there), the current view first, then the keys every list and dialog shares."""
    sections: Sections = [("Everywhere", binding_rows(global_bindings, key_display))]
    ordered = sorted(views, key=lambda view: current not in view[1])  # stable: the rest keep their order
    for title, classes in ordered:
        rows = [row for cls in classes for row in binding_rows(cls.__dict__.get("BINDINGS", []), key_display)]
        if rows:
            sections.append((title + ("  (this view)" if current in classes else ""), rows))
    sections.append(("Tables and lists", [("↑ ↓ pgup pgdn", "move"), ("enter", "open / select"),
                                          ("tab, shift+tab", "next / previous pane"), ("esc", "close a dialog")]))
    sections.append(("Command palette", [("ctrl+p", "search every action, skill and view")]))
    return sections


def bindings_table(sections: Sections) -> Table:
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

    def __init__(self, sections: Sections) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static("[b]vbot tui — keys[/b]   (esc closes)", id="help-title")
            with VerticalScroll(id="help-body"):
                yield Static(bindings_table(self.sections))

    def action_dismiss(self) -> None:
        self.dismiss(None)
