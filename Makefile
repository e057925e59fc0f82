# Two commands do everything on a fresh machine:
#   make demo   bake the default project into .scratch/, install it and run it
#   make test   run every test of the template (bakes, generated suites, docs)

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := .scratch/demo

# The generated projects' Makefiles use uv when it is on PATH.
export PATH := $(BIN):$(PATH)

.PHONY: demo test lint install bench docs clean

demo: install
	rm -rf $(DEMO)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO) .
	$(MAKE) -C $(DEMO)/realtime_site dev

test: install
	$(BIN)/python -m pytest tests

# Bake the default project and measure it against the published package in one run
# (about 5 minutes; figures and method in bench/README.md, raw numbers in bench/results/).
bench: install
	$(BIN)/python bench/run.py

# The documentation site (docs/, mkdocs.yml) into site/; any warning fails the build.
# Live preview while writing: .venv/bin/mkdocs serve
docs: install
	$(BIN)/mkdocs build --strict

lint: install
	$(BIN)/ruff check hooks tests
	$(BIN)/ruff format --check hooks tests

install: $(STAMP)

$(STAMP): requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

clean:
	rm -rf $(VENV) .scratch .pytest_cache
