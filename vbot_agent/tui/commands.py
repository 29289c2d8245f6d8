"""The command palette: every registered action, every skill and every view, fuzzy-searchable."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from vbot_agent.tui.messages import RequestAction, RequestSkill


def _commands(app) -> list[tuple[str, str, object]]:
    """(text shown, help, callback) for everything the palette offers."""
    from vbot_agent.actions import REGISTRY

    out: list[tuple[str, str, object]] = []
    for action in REGISTRY:
        out.append((f"vbot {action.name}", f"{action.summary} [{action.group}]",
                    partial(app.post_message, RequestAction(action.name))))
    for name in app.skill_names():
        out.append((f"skill: {name}", "open this skill in the skills browser",
                    partial(app.post_message, RequestSkill(name))))
    for mode, title in (("dashboard", "Dashboard"), ("skills", "Skills"), ("runs", "Runs and checkpoints"),
                        ("jobs", "Jobs and logs")):
        out.append((f"view: {title}", f"switch to the {title.lower()} view", partial(app.switch_mode, mode)))
    out.append(("view: Help", "show every key binding", app.action_help))
    return out


class VbotCommands(Provider):
    """Actions first (``vbot train``), then skills (``skill: …``) and views (``view: …``)."""

    async def discover(self) -> Hits:
        for text, help_text, callback in _commands(self.app):
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in _commands(self.app):
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, text=text, help=help_text)


class ActionCommands(Provider):
    """Only the actions (the `a` key)."""

    async def discover(self) -> Hits:
        for text, help_text, callback in _commands(self.app):
            if text.startswith("vbot "):
                yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in _commands(self.app):
            if text.startswith("vbot "):
                score = matcher.match(text)
                if score > 0:
                    yield Hit(score, matcher.highlight(text), callback, text=text, help=help_text)
