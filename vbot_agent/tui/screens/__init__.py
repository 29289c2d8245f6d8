"""One screen per view of the TUI."""
