# Two entry points (see README): `make demo` and `make test`. Needs only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= finops.duckdb
PORT   ?= 8501

.PHONY: setup demo app test test-fast bench lint clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $@

demo: setup  ## load the demo history into ./finops.duckdb and open the app
	$(BIN)/finops demo --db $(DB)
	$(BIN)/finops app --db $(DB) --port $(PORT)

app: setup
	$(BIN)/finops app --db $(DB) --port $(PORT)

test: setup  ## the whole suite, slow tests included (what CI runs)
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

bench: setup
	$(BIN)/python benchmarks/run_all.py

lint: setup
	$(BIN)/python -m ruff check finops tests benchmarks
	$(BIN)/python -m ruff format --check finops tests benchmarks

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
