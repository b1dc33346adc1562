# Two entry points: `make demo` (set up + run the whole pipeline on the default
# scenario) and `make test` (set up + run the test suite). Both create .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCENARIO ?= scenarios/orkanger.yaml
OUT ?= out/orkanger

.PHONY: setup demo test test-all lint bench clean

$(BIN)/symbiosim: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/symbiosim

setup: $(BIN)/symbiosim

demo: setup
	$(BIN)/symbiosim doctor
	$(BIN)/symbiosim validate $(SCENARIO)
	$(BIN)/symbiosim plan $(SCENARIO) --out $(OUT)/plan
	$(BIN)/symbiosim simulate $(SCENARIO) --seed 1 --out $(OUT)/simulate
	$(BIN)/symbiosim compare $(SCENARIO) --seed 1 --out $(OUT)/compare

test: setup
	$(BIN)/python -m pytest -q

test-all: setup
	$(BIN)/python -m pytest -q -m "slow or not slow"

lint: setup
	$(BIN)/ruff check symbiosim tests benchmarks
	$(BIN)/mypy symbiosim

bench: setup
	$(BIN)/python -m benchmarks.run_planner

clean:
	rm -rf $(VENV) out results .pytest_cache
