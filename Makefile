# One dev loop, the same locally and in CI. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-all lint demo bench chaos clean

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

lint: $(STAMP)
	$(BIN)/ruff format --check syncer tests bench
	$(BIN)/ruff check syncer tests bench
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/python -m syncer demo

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The chaos suite (tests/chaos/): bad inputs, proxy faults and kill -9 against real tenants; prints its
# tally and exits 1 when any case fails. A smoke of it runs in `make test`.
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
