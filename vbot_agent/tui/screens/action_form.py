"""A form for any registered action, built from its parameter schema.

Every field is checked with the registry's own ``Param.coerce`` as you type, so the messages are the
ones the CLI prints. Run returns the validated values to the caller (the app starts the subprocess).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from vbot_agent.actions.registry import Action, Param
from vbot_agent.errors import UsageError

DEFAULT_NOTE = re.compile(r"\(default: ([^()]*)\)")  # how help texts name a default the action fills in

# Actions that cannot run as a piped subprocess of the TUI.
NOT_RUNNABLE = {"tui": "the TUI is already running"}


def field_id(param: Param) -> str:
    return f"param-{param.name}"


def _initial_text(param: Param, value: Any) -> str:
    if value is None:
        return ""
    if param.repeat and isinstance(value, (list, tuple)):
        return shlex.join(str(v) for v in value)
    return str(value)


def empty_means(param: Param) -> str:
    """What an empty field stands for, shown in it as the placeholder.

    Many parameters keep ``default=None`` so that a config file can still set them, and say their
    effective default in the help text as ``(default: X)``; the field then shows ``default: X``.
    """
    if param.required:
        return "required"
    if param.default not in (None, [], ()):
        return f"default: {_initial_text(param, param.default)}"
    notes = DEFAULT_NOTE.findall(param.help or "")
    return f"default: {notes[-1]}" if notes else "not set"


def _describe(param: Param) -> str:
    bits = [param.help] if param.help else []
    if param.choices:
        bits.append("one of " + ", ".join(map(str, param.choices)))
    if param.min is not None or param.max is not None:
        bits.append(f"range [{'' if param.min is None else param.min}, {'' if param.max is None else param.max}]")
    if param.default not in (None, [], ()):
        bits.append(f"default {_initial_text(param, param.default)}")
    if param.repeat:
        bits.append("several values: separate with spaces")
    return "; ".join(bits)


class ActionFormScreen(ModalScreen[dict[str, Any] | None]):
    """Dismisses with the validated values to run, or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+r", "run", "Run", id="form.run"),
    ]

    def __init__(self, action: Action, prefill: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.action_def = action
        self.prefill = dict(prefill or {})
        self.errors: dict[str, str] = {}

    # ------------------------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        action = self.action_def
        with Vertical(id="form-dialog"):
            yield Static(f"[b]vbot {action.name}[/b] — {action.summary}", id="form-title")
            with VerticalScroll(id="form-fields"):
                if not action.params:
                    yield Static("This action takes no parameters.", classes="form-help")
                for param in action.params:
                    yield from self._field(param)
            yield Static("", id="form-command")
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Run ^r", id="form-run", variant="primary", compact=True,
                             disabled=action.name in NOT_RUNNABLE)
                yield Button("Cancel esc", id="form-cancel", compact=True)

    def _field(self, param: Param) -> ComposeResult:
        value = self.prefill.get(param.name, param.default)
        label = f"{param.name}{' *' if param.required else ''} [dim]{param.type}{'×n' if param.repeat else ''}[/dim]"
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            if param.type == "bool" and not param.repeat:
                yield Checkbox(param.option, value=bool(value), id=field_id(param), compact=True)
            elif param.choices and not param.repeat:
                options = [(str(c), c) for c in param.choices]
                initial = value if value in param.choices else Select.NULL
                yield Select(options, value=initial, allow_blank=not param.required or initial is Select.NULL,
                             id=field_id(param), prompt=empty_means(param), compact=True)
            else:  # starts with the value that will run (the default unless prefilled), ready to edit
                yield Input(_initial_text(param, value), placeholder=empty_means(param), id=field_id(param),
                            compact=True)
        help_text = _describe(param)
        if help_text:
            yield Static(help_text, classes="form-help", markup=False)
        error = Static("", classes="form-field-error", id=f"error-{param.name}", markup=False)
        error.display = False
        yield error

    def on_mount(self) -> None:
        self.validate_form()
        note = NOT_RUNNABLE.get(self.action_def.name)
        if note:
            self.query_one("#form-error", Static).update(f"Cannot run from here: {note}.")
        first = self.query("#form-fields Input, #form-fields Select, #form-fields Checkbox").first() \
            if self.action_def.params else self.query_one("#form-run")
        first.focus()

    # ---------------------------------------------------------------------------- values
    def raw_values(self) -> dict[str, Any]:
        """The values in the fields (empty fields and an unchanged checkbox are left out; the
        command line leaves out values equal to the default)."""
        out: dict[str, Any] = {}
        for param in self.action_def.params:
            widget = self.query_one(f"#{field_id(param)}")
            if isinstance(widget, Checkbox):
                if widget.value != bool(param.default):
                    out[param.name] = widget.value
            elif isinstance(widget, Select):
                if widget.value is not Select.NULL:
                    out[param.name] = widget.value
            else:
                text = widget.value.strip()
                if not text:
                    continue
                if param.repeat:
                    try:
                        out[param.name] = shlex.split(text)
                    except ValueError as exc:
                        out[param.name] = ValueError(f"{param.option}: {exc}")
                else:
                    out[param.name] = text
        return out

    def validate_form(self) -> dict[str, Any] | None:
        """Check every field; show the messages; return the coerced values or None on errors."""
        raw = self.raw_values()
        self.errors = {}
        for param in self.action_def.params:
            value = raw.get(param.name)
            try:
                if isinstance(value, ValueError):
                    raise UsageError(str(value))
                if value is None and param.required:
                    raise UsageError(f"{param.option if not param.positional else param.name.upper()} is required")
                if value is not None:
                    param.coerce(value)
            except UsageError as exc:
                self.errors[param.name] = str(exc)
        for param in self.action_def.params:
            message = self.errors.get(param.name, "")
            error = self.query_one(f"#error-{param.name}", Static)
            error.update(message)
            error.display = bool(message)
            self.query_one(f"#{field_id(param)}").set_class(bool(message), "-invalid-field")
        command = self.query_one("#form-command", Static)
        if self.errors:
            command.update(f"[red]{len(self.errors)} field(s) to fix[/red]")
            return None
        values = self.action_def.validate(raw, fill_defaults=False)
        command.update("[dim]$[/dim] " + shlex.join(self.action_def.command_line(values)))
        return values

    # ---------------------------------------------------------------------------- events
    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self.validate_form()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#form-run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_run(self) -> None:
        if self.action_def.name in NOT_RUNNABLE:
            self.notify(f"Cannot run {self.action_def.name}: {NOT_RUNNABLE[self.action_def.name]}",
                        severity="warning")
            return
        values = self.validate_form()
        if values is None:
            name = next(iter(self.errors))
            self.query_one(f"#{field_id(self.action_def.param(name))}").focus()
            self.notify(self.errors[name], severity="error", title="Fix the form")
            return
        self.dismiss(values)

    def action_cancel(self) -> None:
        self.dismiss(None)
