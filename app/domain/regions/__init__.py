"""The administrative hierarchy (行政区划) and its 12-digit statistical division codes."""
