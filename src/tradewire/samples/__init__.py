"""Real recorded market data bundled for the demo node (see SOURCES.md in this folder)."""
