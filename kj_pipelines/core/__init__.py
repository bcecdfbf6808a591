"""Shared tools below every business area: periods and working days, numbers, files and hashes,
keyed columns and month grids, where the data lives and what time it is, and whether a run's
worker still lives."""
