# One dev loop, the same locally and in CI. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-all lint demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Exit code 5 (no tests collected) is a failure here on purpose: make test must run tests.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not slow" --dist loadfile

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

WORKFLOWS := $(wildcard examples/github/*.yml)

lint: $(STAMP)
	$(BIN)/ruff format --check syncer tests bench
	$(BIN)/ruff check syncer tests bench
	$(BIN)/mypy
	$(BIN)/zizmor --offline --quiet action.yml $(WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)

demo: $(STAMP)
	$(BIN)/python -m syncer demo

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
