# Two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DB ?= runactionability-demo.sqlite

.PHONY: demo test lint typecheck bench bench-core bench-sql bench-pushdown bench-request clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[cli]'
	touch $@

$(VENV)/.dev-installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/runactionability demo --database $(DEMO_DB)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests examples bench
	$(BIN)/ruff format --check src tests examples bench

typecheck: $(VENV)/.dev-installed
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest

# `make bench` runs every benchmark; each prints its rows of the performance table (issue 13,
# docs/performance.md) measured side by side in one run, on SQLite and on PostgreSQL at
# BENCH_PG (empty: SQLite only). `make test` runs each one at a tiny size (tests/test_bench.py).
# The SQL ones build a 1,000,000-run history once (cached under bench/results/); ARGS goes to
# every script (`--rows` is understood by all), e.g. `make bench ARGS="--rows 100000"`.
BENCH_PG ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# The pushdown benchmark loads its history into this schema of BENCH_PG (created if missing).
BENCH_SCHEMA ?= bench
comma := ,

bench: bench-core bench-pushdown bench-sql bench-request

bench-core: $(VENV)/.dev-installed
	$(BIN)/python bench/core_bench.py $(ARGS)

bench-pushdown: $(VENV)/.dev-installed
ifneq ($(BENCH_PG),)
	$(BIN)/python -c "import sqlalchemy as sa; sa.create_engine('$(BENCH_PG)', isolation_level='AUTOCOMMIT').connect().exec_driver_sql('CREATE SCHEMA IF NOT EXISTS $(BENCH_SCHEMA)')"
	$(BIN)/python bench/pushdown_bench.py --explain \
	  --postgresql '$(BENCH_PG)?options=-csearch_path%3D$(BENCH_SCHEMA)' $(ARGS)
else
	$(BIN)/python bench/pushdown_bench.py --explain $(ARGS)
endif

bench-sql: $(VENV)/.dev-installed
	$(BIN)/python bench/sql_page_bench.py --engines sqlite$(if $(BENCH_PG),$(comma)postgresql) \
	  --postgres-url '$(BENCH_PG)' $(ARGS)

bench-request: $(VENV)/.dev-installed
	$(BIN)/python bench/request_overhead_bench.py \
	  --engines sqlite$(if $(BENCH_PG),$(comma)postgresql) --postgres-url '$(BENCH_PG)' $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis $(DEMO_DB)
