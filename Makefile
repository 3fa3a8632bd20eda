# Ducha — the manual for builders. Every target installs what it needs into .venv first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= var

.PHONY: install run demo test lint bench up down clean

install: $(STAMP)  ## create .venv and install ducha with its dev tools (idempotent)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install  ## seed the demo (once), print its users' tokens, serve the API on :8000
	DUCHA_DATA_DIR=$(DATA) $(BIN)/ducha run

demo: install  ## seed (or re-seed, without duplicates) the demo
	DUCHA_DATA_DIR=$(DATA) $(BIN)/ducha demo

test: install  ## every test: unit, CLI, SQLite and real PostgreSQL
	$(BIN)/python -m pytest -q

lint: install  ## ruff and mypy
	$(BIN)/ruff check domain services projections tests
	$(BIN)/ruff format --check domain services projections tests
	$(BIN)/mypy

bench: install  ## throughput figures as ratios against a baseline measured in the same run
	$(BIN)/python -m tests.bench.run

up: install  ## the distributed stack, no Docker: PostgreSQL, Kafka (Tansu), relay, 2 workers, HTTP
	$(BIN)/python -m services.stack up --data $(DATA)

down:  ## stop what make up started
	$(BIN)/python -m services.stack down --data $(DATA)

clean:  ## remove the virtualenv and local data
	rm -rf $(VENV) $(DATA)
