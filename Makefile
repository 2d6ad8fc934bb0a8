# Two entry points (see README): `make demo` and `make test`. Need only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= finops.duckdb
PORT   ?= 8501

.PHONY: setup setup-test system-deps demo app test test-fast lint doctest bench clean

# `make demo` installs the runtime only; `make test` adds tests, lint, Spark and notebooks
setup: $(VENV)/.installed-app
setup-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-app: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $@ $(VENV)/.installed-app

# What the browser and Spark tests need from the system: Debian's chromium and a Java 17+.
# Installed when missing and apt-get is at hand; without them those tests FAIL (never skip).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! command -v java >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and Java 17 (browser and Spark tests)"; \
	    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium \
	      openjdk-17-jre-headless) >/tmp/finops-system-deps.log 2>&1 \
	      || echo "apt-get failed (see /tmp/finops-system-deps.log): browser/Spark tests will fail"; \
	  else echo "no apt-get: install chromium and Java 17+ yourself, or the browser/Spark tests fail"; fi; \
	fi

demo: setup  ## load the demo history into ./finops.duckdb and open the app
	$(BIN)/finops demo --db $(DB)
	$(BIN)/finops app --db $(DB) --port $(PORT)

app: setup
	$(BIN)/finops app --db $(DB) --port $(PORT)

lint: setup-test  ## ruff, formatting and the layer contracts
	$(BIN)/ruff check finops tests benchmarks app.py
	$(BIN)/ruff format --check finops tests benchmarks app.py
	$(BIN)/lint-imports

doctest: setup-test  ## the docstring examples in the library
	$(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules finops \
	  --ignore=finops/app/pages --ignore=finops/cli/__main__.py

test: setup-test system-deps lint doctest  ## the whole suite, slow and browser tests included (CI)
	FINOPS_NO_SKIPS=1 $(BIN)/python -m pytest -rs

test-fast: setup-test
	$(BIN)/python -m pytest -m "not slow and not browser"

bench: setup-test
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
