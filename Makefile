# The README's two commands: `make run` and `make test`. Needs only Python 3.11 and make.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
DG := $(VENV)/bin/dg
export KJ_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
RUN_MONTH ?= 2026-10
HOST ?= 127.0.0.1
PORT ?= 3000

.PHONY: setup run sample materialize ui ui-readonly test test-slow lint check-defs bench backtest clean

# Installed with its bytecode compiled: where PYTHONDONTWRITEBYTECODE is set (as container and CI
# images often have it), Python would otherwise compile dagster and pandas from source in every
# process (measured: `import dagster` 4.7 s against 1.8 s, `import pandas` 4.0 s against 0.8 s).
# The project's own modules are compiled at every `make` (only the changed ones); Python ignores
# a stale .pyc.
$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	test -x $(UV) || $(VENV)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --extra dev --quiet --compile-bytecode
	touch $@

setup: $(VENV)/.installed
	$(VENV)/bin/python -m compileall -q kj_pipelines benchmarks

# The sample is written once; delete $(KJ_DATA_DIR) (or run `kj sample`) to start over.
sample: setup
	test -f "$(KJ_DATA_DIR)/catalog/indicators.yaml" || $(VENV)/bin/kj sample

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p "$(DAGSTER_HOME)"
	cp dagster.yaml "$@"

RUN_YEAR = $(firstword $(subst -, ,$(RUN_MONTH)))
KJ := $(VENV)/bin/kj

# Ingest everything pending; then, in one single-run backfill, the indicators, lists and monthly
# reports from December two years back (not before the catalog's first period) to the month
# before RUN_MONTH (the charts' history, the year before evaluated, compared with its own year
# before); then the month itself last (so the UI opens on it, and its supervision list sees the
# months before it); the year's plan; and the reviews that read the month: the last complete
# quarter's ranking, the last complete year's evaluation and summary, the weekly consultation
# after the month's deadline (`kj keys`). In a region's first year `kj keys` leaves out what
# cannot run yet (a period before the first one, a year without a target list) and says why.
materialize: sample $(DAGSTER_HOME)/dagster.yaml
	$(DG) launch --assets 'key:submission_inbox or key:annual_targets or key:registry_snapshot or key:work_plans'
	$(call when_key,history,$(DG) launch --assets 'key:"indicator/*" or key:indicator_progress or key:goal_distance or key:"list/*" or key:monthly_report' --partition-range)
	$(DG) launch --job monthly_review --partition "$(RUN_MONTH)"
	$(DG) launch --assets indicator_plan --partition "$(RUN_YEAR)"
	$(call when_key,quarterly_analysis,$(DG) launch --job quarterly_analysis --partition)
	$(call when_key,annual_evaluation,$(DG) launch --job annual_evaluation --partition)
	$(call when_key,weekly_consultation,$(DG) launch --job weekly_consultation --partition)

# $(call when_key,JOB,COMMAND): COMMAND with JOB's key for RUN_MONTH appended, or nothing when
# `kj keys` skips it (it prints why on standard error)
when_key = @key="$$($(KJ) keys $(RUN_MONTH) --job $(1))" || exit 1; \
	if [ -n "$$key" ]; then echo "$(1): $$key"; $(2) "$$key"; fi

# The UI is started with SIGINT at its default. Started in the background (`nohup make ui &`),
# it would inherit SIGINT ignored, as a shell's background job has it; Dagster maps SIGTERM to
# SIGINT's handler, so `kill` would then leave it running. A terminal or a service manager
# starts it with SIGINT at its default anyway.
SIGINT_DEFAULT = $(VENV)/bin/python -c 'import os, signal, sys; \
	signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])'

ui: setup $(DAGSTER_HOME)/dagster.yaml
	$(SIGINT_DEFAULT) $(DG) dev --host $(HOST) --port $(PORT)

# for viewers: the UI without launching, cancelling or toggling anything (no daemon either)
ui-readonly: setup $(DAGSTER_HOME)/dagster.yaml
	$(SIGINT_DEFAULT) $(VENV)/bin/dagster-webserver --read-only -h $(HOST) -p $(PORT) \
		-w workspace.yaml

run: materialize ui

# the fast suite on up to four cores (pytest-xdist; each worker builds its own session
# fixtures, so more workers than that mostly repeat them); `pytest` alone runs it in one process
test: setup
	$(VENV)/bin/pytest --numprocesses=auto --maxprocesses=4 --dist worksteal

# the board opened in headless Chromium (Debian's `chromium`); skipped with a reason without it
test-slow: setup
	$(VENV)/bin/pytest -m slow

# ruff, and the architecture: the business areas' layers and Dagster only in defs/ (import-linter,
# the contracts in pyproject.toml)
lint: setup
	$(VENV)/bin/ruff check kj_pipelines tests benchmarks examples scripts
	$(VENV)/bin/lint-imports

# the code location loads with the data directory's catalog (or the packaged one)
check-defs: setup $(DAGSTER_HOME)/dagster.yaml
	$(DG) check defs

bench: setup
	$(VENV)/bin/python -m benchmarks.run

# the warning rules replayed on two histories of the sample (seed 315 and 2027): bench/backtest.md
backtest: setup
	$(VENV)/bin/python -m benchmarks.backtest_histories

clean:
	rm -rf $(VENV) $(DAGSTER_HOME)
