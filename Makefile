# The two commands of the README: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
export KJ_DATA_DIR ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
RUN_MONTH ?= 2026-10

.PHONY: setup run sample materialize ui test lint bench clean

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	test -x $(UV) || $(VENV)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --extra dev --quiet
	touch $@

setup: $(VENV)/.installed

sample: setup
	$(VENV)/bin/kj sample

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $@

materialize: setup $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster job execute -m kj_pipelines.definitions -j monthly_review \
		--tags '{"dagster/partition": "$(RUN_MONTH)"}'

ui: setup $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

run: sample materialize ui

test: setup
	$(VENV)/bin/pytest

lint: setup
	$(VENV)/bin/ruff check kj_pipelines tests

bench: setup
	$(VENV)/bin/python -m benchmarks.run

clean:
	rm -rf $(VENV) $(DAGSTER_HOME)
