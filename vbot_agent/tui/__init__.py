"""The Textual TUI (`vbot tui`, docs/design.md, "TUI"): dashboard, skills, action forms, runs, jobs.

Layout: ``app.py`` wires screens and global bindings; ``screens/`` holds one screen per view;
``widgets/`` the reusable pieces; ``data.py`` every file read; ``app.tcss`` the styles. Launched
actions run through ``vbot_agent.agent.jobs`` (shared with the MCP server). Widgets get data as
attributes and report user intent as messages.
"""
