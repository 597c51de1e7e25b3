# One dev loop, the same locally and in CI. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-slow test-all test-browser browser lint demo demo-serve screenshot bench chaos clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Exit code 5 (no tests collected) is a failure here on purpose: make test must run tests.
# .ci/install-openssh (idempotent) provides ssh-keygen for the signed-commit tests.
test: $(STAMP)
	.ci/install-openssh
	$(BIN)/python -m pytest -q -n 2 -m "not slow" --dist loadfile

# The long property runs (e.g. over a thousand schema mutations, tests/test_schema_compiled.py).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m slow --dist loadfile

test-all: $(STAMP)
	.ci/install-openssh
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

WORKFLOWS := $(wildcard examples/github/*.yml)

lint: $(STAMP)
	$(BIN)/ruff format --check syncer tests bench
	$(BIN)/ruff check syncer tests bench
	$(BIN)/mypy
	$(BIN)/zizmor --offline --quiet action.yml $(WORKFLOWS)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(BIN)/hadolint Dockerfile
	$(BIN)/kubernetes-validate --kubernetes-version 1.30.0 --strict --quiet deploy/kubernetes/*.yaml

# Debian's Chromium for the status-page test (idempotent; .ci/run calls it before make test).
browser:
	.ci/install-browser

# The status page in a real browser (make test runs the same smoke; this target installs the browser).
test-browser: $(STAMP) browser
	$(BIN)/python -m pytest -q tests/browser

demo: $(STAMP)
	$(BIN)/python -m syncer demo

# The demo, then its tenants stay up with `syncer serve` on http://127.0.0.1:8080/ until Ctrl-C.
demo-serve: $(STAMP)
	$(BIN)/python -m syncer demo --serve 8080

# Re-takes docs/status-page.png (the README's screenshot) from the demo story in headless Chromium.
screenshot: $(STAMP) browser
	$(BIN)/python -m tests.browser.screenshot docs/status-page.png

bench: $(STAMP)
	$(BIN)/python bench/run.py

# The chaos suite (tests/chaos/): bad inputs, proxy faults and kill -9 against real tenants; prints its
# tally and exits 1 when any case fails. A smoke of it runs in `make test`.
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
