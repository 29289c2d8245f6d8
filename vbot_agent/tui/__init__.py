"""The Textual TUI (`vbot tui`, docs/design.md, "TUI"): dashboard, skills, action forms, runs, jobs.

Layout: ``app.py`` wires screens and global bindings; ``screens/`` holds one screen per view;
``widgets/`` the reusable pieces; ``data.py`` every file read; ``jobs.py`` the subprocesses;
``app.tcss`` the styles. Widgets get data as attributes and report user intent as messages.
"""
