# upo-toolkit: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= demo-out
JOBS   ?=
BENCH_ARGS ?=

.PHONY: demo test test-fast bench lint clean help workshop-assets

help:
	@echo "make demo   - set up .venv, build the demo cohort and render all reports into $(OUT)/"
	@echo "make test   - set up .venv with test extras and run the whole test suite"
	@echo "make bench  - run the benchmarks (analysis, reports, workshop, privacy, ...); BENCH_ARGS=--quick for short sizes, --list for what each needs"
	@echo "make workshop-assets - install the live form's page assets locally (once; needs npm if solara-assets lags behind)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@# the live form's page assets (needs npm once); without them only `upo workshop` refuses to start, saying how to fix it
	-$(BIN)/python -m toolkit.workshop.assets
	touch $@

# the workshop page's JavaScript/CSS, installed once so that the live form never needs a CDN
workshop-assets: $(VENV)/.installed
	$(BIN)/python -m toolkit.workshop.assets

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/upo demo --out $(OUT) $(if $(JOBS),--jobs $(JOBS),)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 --timeout 600 -q

test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n 2 -q -m "not browser and not slow"

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(OUT) .pytest_cache tests/artifacts
