"""The commands behind `monitor`, one module per group; monitor.cli parses and dispatches."""
