"""``vbot mcp``: the action registry served to coding agents over the Model Context Protocol.

``tools.py`` the tools (one per action, plus the job tools) and their checks; ``resources.py``
WAKE_UP.md, the campaign state, the runs and the skills; ``server.py`` the only module that imports
the MCP SDK. Importing this package imports nothing heavy.
"""
