# The course's commands.  The two a newcomer needs:
#   make book   build the HTML book into _build/html
#   make test   run the whole test suite
# Both create and update the virtual environment (.venv) first.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
# nbgrader runs alembic (and jupyter) from PATH: the venv's bin goes first.
export PATH := $(BIN):$(PATH)

# The stamp is keyed on what decides the environment's content, so `make setup`
# is a no-op (a second) when nothing changed and reinstalls when anything did.
SETUP_KEY := $(shell cat requirements.txt constraints.txt pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)
STAMP := $(VENV)/.setup-$(SETUP_KEY)

.PHONY: help setup book test test-fast lint lab bench clean

help:  ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 14

setup: $(STAMP)  ## create .venv and install the requirements and convkit (idempotent)

$(STAMP):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.setup-*
	@touch $@
	@echo "setup: environment ready in $(VENV)"

book: setup  ## build the executed HTML book into _build/html
	$(BIN)/python -m convkit.book build
	@echo "The book is at: file://$(CURDIR)/_build/html/index.html"

test: setup  ## run the whole test suite (lint, unit, property and end-to-end tests)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-fast: setup  ## the suite without the slow end-to-end tests
	$(BIN)/python -m pytest -m "not slow"

lint: setup  ## ruff
	$(BIN)/ruff check .

lab: setup  ## JupyterLab on the exercises (students start here)
	$(BIN)/jupyter lab --notebook-dir=exercises $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: setup  ## speed benchmarks against torch, measured in the same run
	$(BIN)/python benchmarks/ops.py

clean:  ## remove build output and caches (keeps .venv)
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
