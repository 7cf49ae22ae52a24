# Commands a fresh machine needs: `make demo`, `make web` (after it) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= runactionability-demo.sqlite
PORT ?= 8000

.PHONY: demo web test lint typecheck docs docs-check messages bench bench-core bench-sql bench-pushdown bench-request bench-telemetry bench-changes clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[cli]'
	touch $@

$(VENV)/.web-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[cli,web]'
	touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.demo-installed $(VENV)/.web-installed

demo: $(VENV)/.demo-installed
	$(BIN)/runactionability demo --database $(DEMO_DB)

# The reference web host (examples/webapp/) on the demo database: http://127.0.0.1:$(PORT)
web: $(VENV)/.web-installed
	$(BIN)/python -m examples.webapp --database $(DEMO_DB) --port $(PORT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

test: lint typecheck docs-check
	$(BIN)/python -m pytest

# The documentation site (MkDocs + mkdocstrings), strict: a broken link, a page left out of the nav
# or a docstring that does not render fails. `docs` builds site/; `docs-check` builds the same into
# a throwaway directory for `make test`.
docs: $(VENV)/.dev-installed
	$(BIN)/mkdocs build --strict --site-dir site

docs-check: $(VENV)/.dev-installed
	tmp=$$(mktemp -d) && $(BIN)/mkdocs build --strict --site-dir "$$tmp"; \
	status=$$?; rm -rf "$$tmp"; exit $$status

# `make bench` runs every benchmark; each prints its rows of the performance table (issue 13,
# docs/performance.md) measured side by side in one run, on SQLite and on PostgreSQL at
# BENCH_PG (default: the local test server below; `make bench BENCH_PG=` for SQLite only).
# `make test` runs each one at a tiny size (tests/test_bench.py), in a temporary directory.
# The SQL ones build a 1,000,000-run history once (cached under bench/results/, or under
# $RUNACTIONABILITY_BENCH_RESULTS); ARGS goes to every script (`--rows` is understood by all),
# e.g. `make bench ARGS="--rows 100000"`.
BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
comma := ,

bench: bench-core bench-pushdown bench-sql bench-request bench-telemetry bench-changes

bench-core: $(VENV)/.dev-installed
	$(BIN)/python bench/core_bench.py $(ARGS)

bench-pushdown: $(VENV)/.dev-installed
	$(BIN)/python bench/pushdown_bench.py --explain \
	  $(if $(BENCH_PG),--postgres-url '$(BENCH_PG)',--engines sqlite) $(ARGS)

bench-sql: $(VENV)/.dev-installed
	$(BIN)/python bench/sql_page_bench.py --engines sqlite$(if $(BENCH_PG),$(comma)postgresql) \
	  --postgres-url '$(BENCH_PG)' $(ARGS)

bench-request: $(VENV)/.dev-installed
	$(BIN)/python bench/request_overhead_bench.py \
	  --engines sqlite$(if $(BENCH_PG),$(comma)postgresql) --postgres-url '$(BENCH_PG)' $(ARGS)

bench-changes: $(VENV)/.dev-installed
	$(BIN)/python bench/changes_bench.py --engines sqlite$(if $(BENCH_PG),$(comma)postgresql) \
	  --postgres-url '$(BENCH_PG)' $(ARGS)

bench-telemetry: $(VENV)/.dev-installed
	$(BIN)/python bench/telemetry_bench.py $(ARGS)

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .hypothesis $(DEMO_DB)

# Bring the catalogs' .po files in line with the code's messages (then translate what is new in
# de; the suite fails until every entry is translated). The build compiles them.
messages: $(VENV)/.dev-installed
	$(BIN)/python -c 'from tests.support import update_message_catalogs; update_message_catalogs()'
	$(BIN)/python -c 'from pathlib import Path; from hatch_build import compile_catalogs; compile_catalogs(Path("."))'
