# OpenMNR: `make run` serves the demo, `make test` runs every check CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
.DEFAULT_GOAL := help
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
CHROMIUM := /usr/bin/chromium
export OPENMNR_VAR_DIR ?= $(CURDIR)/var
# Test processes (pytest-xdist), each with a database of its own; `JOBS=0 make test` runs in one.
JOBS ?= auto
PYTEST := $(BIN)/pytest -n $(JOBS) --dist worksteal

.PHONY: help run test test-fast lint deps-audit migrations-check test-sqlite test-postgres test-browser test-faults test-faults-short bench clean

help:
	@echo "make run       - install, migrate, load the demo and serve on http://127.0.0.1:$(PORT)"
	@echo "make test      - lint, migration check, tests on SQLite and PostgreSQL, browser tests"
	@echo "make test-fast - the tests on SQLite without the slow and browser ones (the inner loop)"
	@echo "make test-faults - the long load and fault suite (100 kills, a 30 s database outage)"
	@echo "make bench     - run the benchmarks in bench/"

# The virtual environment, rebuilt when pyproject.toml changes: the application and the test tools;
# the benchmarks' extra packages (faiss, imagehash and their scipy) only for `make bench`.
$(VENV)/.installed: pyproject.toml
	@python=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then \
	  rm -rf $(VENV); echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV) || exit 1; \
	fi
	@echo "Installing OpenMNR and its dependencies into $(VENV) (the first run takes a few minutes)..."
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(BIN)/python -m pip install --quiet -e ".[dev]" 2>&1 | { grep -v "^WARNING: Location" || true; }
	@rm -f $(VENV)/.installed-bench
	@touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]" 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

# var/local.env (written once by `openmnr local-settings`) holds the demo's key, debug and plain
# HTTP, so every openmnr command in this checkout works afterwards with no variable set.
run: $(VENV)/.installed
	@$(BIN)/openmnr local-settings && \
	$(BIN)/openmnr manage migrate --verbosity 0 && \
	PORT=$(PORT) $(BIN)/openmnr demo && \
	echo "" && echo "OpenMNR demo: open http://127.0.0.1:$(PORT)/  (staff sign-in: http://127.0.0.1:$(PORT)/accounts/sign-in/)" && \
	echo "Current TOTP codes: $(BIN)/openmnr manage demo_codes" && echo "" && \
	PORT=$(PORT) $(BIN)/openmnr serve --port $(PORT) --with-worker

# ruff, then the import contracts of pyproject.toml (the layers; tests/web/test_layers.py shows that
# a bad import breaks them).
lint: $(VENV)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache

# Known vulnerabilities in the installed dependencies (pip-audit; needs PyPI's JSON API, skipped
# with a loud message when it cannot be reached: scripts/audit-deps says how).
deps-audit: $(VENV)/.installed
	$(BIN)/python scripts/audit-deps

migrations-check: $(VENV)/.installed
	OPENMNR_DEBUG=1 $(BIN)/openmnr manage makemigrations --check --dry-run

test-sqlite: $(VENV)/.installed
	@echo "=== pytest on SQLite ==="
	env -u DATABASE_URL $(PYTEST) -m "not browser and not faults"

test-postgres: $(VENV)/.installed
	@echo "=== pytest on PostgreSQL ==="
	@url=$${DATABASE_URL:-$(PG_URL)}; \
	if ! $(BIN)/python scripts/pg-ready "$$url"; then \
	  if [ "$$CI" = "true" ]; then echo "FAIL: PostgreSQL is not reachable at $$url (required in CI)"; exit 1; fi; \
	  echo "!!!!! SKIPPED: PostgreSQL is not reachable at $$url; the PostgreSQL run did NOT happen !!!!!"; exit 0; \
	fi; \
	DATABASE_URL="$$url" $(PYTEST) -m "not browser and not faults"

test-browser: $(VENV)/.installed
	@echo "=== browser tests (Playwright, $(CHROMIUM)) ==="
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = "0" ]; then \
	  echo "Installing Debian's chromium"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null || true; \
	fi; \
	if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$CI" = "true" ]; then echo "FAIL: $(CHROMIUM) is missing (required in CI)"; exit 1; fi; \
	  echo "!!!!! SKIPPED: $(CHROMIUM) is missing (apt-get install chromium); browser tests did NOT run !!!!!"; exit 0; \
	fi; \
	env -u DATABASE_URL $(PYTEST) -m browser

# The load and fault suite starts its own PostgreSQL (initdb on a free port; PG_BIN says where
# initdb is), two web and two task workers, kills them and stops the database (tests/faults).
# `make test` runs the short version, once; `make test-faults` the long one (100 kills).
PG_BIN ?= /usr/lib/postgresql/15/bin
test-faults-short: $(VENV)/.installed
	@echo "=== load and fault suite (short) ==="
	@if [ ! -x $(PG_BIN)/initdb ]; then \
	  if [ "$$CI" = "true" ]; then echo "FAIL: $(PG_BIN)/initdb is missing (required in CI)"; exit 1; fi; \
	  echo "!!!!! SKIPPED: $(PG_BIN)/initdb is missing; the fault suite did NOT run !!!!!"; exit 0; \
	fi; \
	env -u DATABASE_URL OPENMNR_PG_BIN=$(PG_BIN) $(BIN)/pytest -n 0 -m faults tests/faults

test-faults: $(VENV)/.installed
	env -u DATABASE_URL OPENMNR_PG_BIN=$(PG_BIN) OPENMNR_FAULTS=long $(BIN)/pytest -n 0 -s -m faults tests/faults

test: lint deps-audit migrations-check test-sqlite test-postgres test-faults-short test-browser
	@echo "make test: all checks passed"

# The inner loop: add --lf to run only what failed last time, e.g. make test-fast ARGS=--lf
test-fast: $(VENV)/.installed
	env -u DATABASE_URL $(PYTEST) -m "not browser and not slow" $(ARGS)

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/hashing.py
	$(BIN)/python bench/index.py
	$(BIN)/python bench/takedown_sim.py
	$(BIN)/python bench/propagation.py
	$(BIN)/python bench/scan.py

clean:
	rm -rf $(VENV) var/test-*.sqlite3* .pytest_cache
