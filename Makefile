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

.PHONY: help setup book test test-fast lint lab bench clean browser-deps book-deps sandbox-deps export \
	generate preflight autograde feedback grades report similarity validate

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

book: setup book-deps  ## build the executed HTML book into _build/html
	$(BIN)/python -m convkit.book build
	@echo "The book is at: file://$(CURDIR)/_build/html/index.html"

test: setup browser-deps book-deps sandbox-deps lint  ## run the whole test suite (lint, unit, property and end-to-end tests)
	$(BIN)/python -m pytest

test-fast: setup sandbox-deps lint  ## the suite without the slow end-to-end tests
	$(BIN)/python -m pytest -m "not slow"

lint: setup  ## ruff, and lint-imports (the package's layers: src/convkit/README.md)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

lab: setup  ## JupyterLab on the exercises (students start here)
	$(BIN)/jupyter lab --notebook-dir=exercises $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: setup book-deps sandbox-deps  ## speed benchmarks against torch, measured in the same run
	@status=0; for b in ops training autograde book; do $(BIN)/python benchmarks/$$b.py || status=1; done; exit $$status

# nbgrader, for instructors and students (see the README).  Examples:
#   make autograde ASSIGNMENT=ch01            make autograde ASSIGNMENT=ch01 STUDENT=alice JOBS=2
#   make similarity ASSIGNMENT=ch01 THRESHOLD=0.7
ASSIGNMENT ?= ch01
STUDENT ?=
JOBS ?=
SCHEDULER ?=
NB ?=
THRESHOLD ?=

generate: setup  ## nbgrader: make exercises/ from solutions/ (all assignments)
	$(BIN)/python -m convkit.course generate

preflight: setup sandbox-deps  ## nbgrader: pre-flight checks of ASSIGNMENT (default ch01)
	$(BIN)/python -m convkit.course preflight $(ASSIGNMENT)

autograde: setup sandbox-deps  ## nbgrader: pre-flight, then autograde ASSIGNMENT (all students, or STUDENT=id; JOBS=n workers; SCHEDULER=tcp://host:8786 for a Dask cluster)
	$(BIN)/python -m convkit.course autograde $(ASSIGNMENT) $(if $(STUDENT),--student $(STUDENT),) $(if $(JOBS),--jobs $(JOBS),) $(if $(SCHEDULER),--scheduler $(SCHEDULER),)

feedback: setup  ## nbgrader: feedback HTML for ASSIGNMENT's graded students (no hidden tests)
	$(BIN)/python -m convkit.course feedback $(ASSIGNMENT) $(if $(STUDENT),--student $(STUDENT),)

grades: setup  ## nbgrader: export every grade to grades.csv (ungraded ones marked, never 0)
	$(BIN)/python -m convkit.course export --to grades.csv

export: setup  ## nbgrader: grades for the LMS: course.yml's lms.export (or FORMAT=canvas|moodle|long) in grading/export/
	$(BIN)/python -m convkit.course export --format $(if $(FORMAT),$(FORMAT),lms)

report: setup  ## nbgrader: grading/report/report.html (score histograms, test pass rates, ungraded) + CSVs
	$(BIN)/python -m convkit.course report

similarity: setup  ## nbgrader: grading/similarity/ASSIGNMENT/report.html, pairs of alike answer code for a human to read (THRESHOLD=0.6)
	$(BIN)/python -m convkit.course similarity $(ASSIGNMENT) $(if $(THRESHOLD),--threshold $(THRESHOLD),)

validate: setup  ## students: run the tests of the exercises/ notebooks (or NB=path/to.ipynb)
	$(BIN)/python -m convkit.course validate $(NB)

# System packages, installed only when missing (Debian; needs root, as on CI).
browser-deps:  ## Debian's Chromium for the browser tests (never `playwright install`)
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

sandbox-deps:  ## Debian's bubblewrap, the sandbox autograde runs student code in
	@command -v bwrap >/dev/null || (apt-get update -qq && apt-get install -y -qq bubblewrap)

book-deps:  ## npm, which fetches the book's pinned offline JavaScript (MathJax, require.js, widget manager)
	@command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm)

clean:  ## remove build output and caches (keeps .venv)
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
