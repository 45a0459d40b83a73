# geo311: `make run` serves the app, `make test` runs the whole suite. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST := $(or $(GEO311_HOST),127.0.0.1)
PORT := $(or $(GEO311_PORT),8311)
WORKERS := $(or $(GEO311_WORKERS),3)

.PHONY: install run serve test test-fast lint typecheck db-up db-down db-status load-sample clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

run: install
	$(BIN)/geo311 setup
	@echo "geo311 on http://$(HOST):$(PORT)/  (Ctrl-C stops the server; 'make db-down' stops the database)"
	exec $(BIN)/gunicorn -c python:geo311.gunicorn_conf --bind $(HOST):$(PORT) \
		--workers $(WORKERS) 'geo311:create_app()'

test: install
	bash scripts/ensure_test_tools.sh
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: install
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/ruff check geo311 tests scripts

typecheck: install
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(BIN)/mypy

db-up: install
	$(BIN)/geo311 db up

db-down: install
	$(BIN)/geo311 db down

db-status: install
	$(BIN)/geo311 db status

load-sample: install
	$(BIN)/geo311 setup

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
