"""The `tui` action: the Textual interface (vbot_agent.tui, docs/design.md, "TUI")."""

from vbot_agent.actions.registry import Action, Param

ACTIONS: list[Action] = [
    Action(
        name="tui",
        summary="open the terminal UI: campaign dashboard, skills, action forms, runs and jobs",
        func="vbot_agent.tui.app:run_tui",
        params=(Param("refresh", "float", default=2.0, min=0.2, help="seconds between reads of the workspace"),),
        group="interface",
        epilog="Keys: 1-4 switch views, a runs an action, ctrl+p searches everything, ? shows every key.",
    ),
]
