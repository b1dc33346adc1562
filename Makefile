# Two entry points: `make demo` (set up + run the whole pipeline on the default
# scenario) and `make test` (set up + run the test suite). Both create .venv with
# the locked versions of requirements/constraints.txt.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
LATEST := .venv-latest
SCENARIO ?= scenarios/orkanger.yaml
OUT ?= out/orkanger
# the ILLUSTRATIVE input-output table and regional totals (made-up numbers) for the ripple effects
RIPPLE ?= --io-table scenarios/io/orkland_illustrative.yaml --region-totals scenarios/io/orkland_illustrative_region.yaml

.PHONY: setup demo app test test-all test-latest lock lint bench clean

$(BIN)/symbiosim: pyproject.toml $(CONSTRAINTS)
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	touch $(BIN)/symbiosim

setup: $(BIN)/symbiosim

demo: setup
	$(BIN)/symbiosim doctor
	$(BIN)/symbiosim validate $(SCENARIO)
	$(BIN)/symbiosim plan $(SCENARIO) $(RIPPLE) --out $(OUT)/plan
	$(BIN)/symbiosim simulate $(SCENARIO) --seed 1 --out $(OUT)/simulate
	$(BIN)/symbiosim compare $(SCENARIO) --seed 1 --out $(OUT)/compare
	$(BIN)/symbiosim report $(SCENARIO) --seed 1 --no-decomposition $(RIPPLE) --out $(OUT)/report

# The web app on the default scenario (Ctrl-C stops it); setup installs its extra packages too.
app: setup
	$(BIN)/symbiosim app $(SCENARIO)

test: setup
	$(BIN)/python -m pytest -q

test-all: setup
	$(BIN)/python -m pytest -q -m "slow or not slow"

# The suite against today's newest releases (no constraints), in a venv of its own.
test-latest:
	rm -rf $(LATEST)
	$(PY) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --upgrade -e '.[dev]'
	$(LATEST)/bin/python -m pip list --format=freeze | grep -iE '^(highspy|pyomo|mesa|numpy|scipy|pandas|pydantic|duckdb|dask|salib)=' || true
	$(LATEST)/bin/python -m pytest -q

# After test-latest passed: lock the versions it used.
lock:
	test -x $(LATEST)/bin/python || (echo "run make test-latest first" && exit 1)
	{ sed -n '1,2p' $(CONSTRAINTS); echo "pip==$$($(LATEST)/bin/python -m pip --version | cut -d' ' -f2)"; \
	  $(LATEST)/bin/python -m pip freeze --exclude-editable | grep -v '^symbiosim' | sort -f; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)

lint: setup
	$(BIN)/ruff check symbiosim tests benchmarks
	$(BIN)/mypy symbiosim

bench: setup
	$(BIN)/python -m benchmarks.run_planner

clean:
	rm -rf $(VENV) $(LATEST) out results .pytest_cache
