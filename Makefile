# The two commands a newcomer needs: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install demo test lint audit format sandbox clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,prod]"
	touch $@

install: $(VENV)/.installed

# Runs the console with its demo brand on SQLite and the vendor sandbox. Ctrl-C stops it all.
demo: install
	DEBUG=1 $(PY) manage.py demo

# The whole test suite. DATABASE_URL=postgres://... runs it on PostgreSQL instead.
# It runs on TEST_WORKERS processes (pytest-xdist; auto: two per core, at most 8), each on a
# test database of its own; most tests wait on a browser, a cluster or a sandbox, so two a core
# keep the cores busy. The longest tests start first (tests/conftest.py).
# TEST_WORKERS=0 runs it in this one process. PYTEST_ARGS go last (e.g. PYTEST_ARGS="-x -k flow").
TEST_WORKERS ?= auto
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# Security checks: bandit (no medium or high finding), check --deploy as production runs it
# (no warning), and pip-audit of the dependencies (needs the network; says so without it).
audit: install
	.ci/audit

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
