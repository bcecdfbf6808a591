"""The indicators' figures: values from the facts, back-scheduled plans (倒排工期), progress and
status, figures held back, projections (预判预警) and their backtest, multi-year goals; the service
runs one indicator's month."""
