"""The deterministic sample district (its catalog is the packaged one), its lists and history, and
the guard that keeps it out of a region's own data."""
