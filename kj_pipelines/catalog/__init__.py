"""The region as the bureau describes it: units and their levels, indicators, goals, settings and
scoring rules (the model), read from its YAML (the loader)."""
