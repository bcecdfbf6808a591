"""Domain logic of the review cycle: plain Python over pandas and dataclasses, no Dagster."""
