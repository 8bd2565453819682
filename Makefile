# kakari: `make demo` runs the sample jobs; `make test` runs the whole suite. Both set up everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KAKARI := $(VENV)/bin/kakari
SAMPLES := samples/out
DEMO_HOME := var/demo
export OMP_THREAD_LIMIT := 1

.PHONY: setup system venv samples demo lint typecheck test test-fast bench clean

setup: system venv

system:
	@bash scripts/install-system.sh

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e ".[test,web,celery]"
	@touch $@

samples: setup
	@test -f $(SAMPLES)/.complete || ($(PY) -m samples.generate --out $(SAMPLES) --count 50 --seed 42 && touch $(SAMPLES)/.complete)

demo: samples
	@rm -rf $(DEMO_HOME)
	@mkdir -p $(DEMO_HOME)/jobs/kodomo_iryo/inbox $(DEMO_HOME)/jobs/inshoku_kyoka/inbox
	@cp -p $(SAMPLES)/child_medical/child_medical_*.pdf $(DEMO_HOME)/jobs/kodomo_iryo/inbox/
	@cp -p $(SAMPLES)/restaurant_permit/restaurant_permit_*.pdf $(DEMO_HOME)/jobs/inshoku_kyoka/inbox/
	@$(KAKARI) run kodomo_iryo --config samples/kakari.toml --home $(DEMO_HOME)
	@$(KAKARI) run inshoku_kyoka --config samples/kakari.toml --home $(DEMO_HOME)
	@$(KAKARI) report --config samples/kakari.toml --home $(DEMO_HOME) --month $$(date +%Y-%m)
	@$(KAKARI) report --config samples/kakari.toml --home $(DEMO_HOME) --month $$(date +%Y-%m) --file-to $(DEMO_HOME)/reports
	@echo "台帳: $(DEMO_HOME)/ledgers/  報告 (xlsx・pdf・csv): $(DEMO_HOME)/reports/"

lint: setup
	@$(VENV)/bin/ruff check .

typecheck: setup
	@$(VENV)/bin/mypy

test: lint typecheck
	@$(PY) -m pytest -q -n auto --dist loadfile

test-fast: setup
	@$(PY) -m pytest -q -n auto --dist loadfile -m "not slow"

bench: samples
	@$(PY) benchmarks/run_textlayer.py

clean:
	rm -rf var $(SAMPLES) .pytest_cache
