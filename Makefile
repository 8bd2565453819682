# kakari: `make demo` runs the sample jobs; `make test` runs the whole suite. Both set up everything.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KAKARI := $(VENV)/bin/kakari
SAMPLES := samples/out
DEMO_SCANS := $(SAMPLES)/demo-scans
DEMO_HOME := var/demo
export OMP_THREAD_LIMIT := 1

.PHONY: setup system venv fonts samples corpus demo lint typecheck test test-fast test-portable bench clean

setup: system venv fonts

system:
	@bash scripts/install-system.sh

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e ".[test,web,celery]"
	@touch $@

fonts: venv
	@$(PY) scripts/setup_fonts.py

samples: setup
	@test -f $(SAMPLES)/.complete || ($(PY) -m samples.generate --out $(SAMPLES) --count 50 --seed 42 && touch $(SAMPLES)/.complete)

corpus: setup
	@$(PY) -m samples.corpus --out $(SAMPLES)/corpus

demo: samples
	@test -f $(DEMO_SCANS)/.complete || ($(PY) -m samples.corpus --demo --out $(DEMO_SCANS) && touch $(DEMO_SCANS)/.complete)
	@rm -rf $(DEMO_HOME)
	@$(KAKARI) setup --config samples/kakari.toml --home $(DEMO_HOME) >/dev/null  # what a town runs after pip install
	@cp -p $(SAMPLES)/child_medical/child_medical_*.pdf $(DEMO_HOME)/jobs/kodomo_iryo/inbox/
	@cp -p $(SAMPLES)/restaurant_permit/restaurant_permit_*.pdf $(DEMO_HOME)/jobs/inshoku_kyoka/inbox/
	@# scans and faxes in several printed and handwriting-style fonts: OCR and 要確認 beside the PDFs
	@find $(DEMO_SCANS)/child_medical -type f ! -name '*.json' -exec cp -p {} $(DEMO_HOME)/jobs/kodomo_iryo/inbox/ \;
	@find $(DEMO_SCANS)/restaurant_permit -type f ! -name '*.json' -exec cp -p {} $(DEMO_HOME)/jobs/inshoku_kyoka/inbox/ \;
	@$(KAKARI) run kodomo_iryo --config samples/kakari.toml --home $(DEMO_HOME)
	@$(KAKARI) run inshoku_kyoka --config samples/kakari.toml --home $(DEMO_HOME)
	@# online applications (電子申請 exports with their attachments): the same bots and ledgers, their own report lines
	@$(PY) -m samples.exports --out $(DEMO_HOME)/exports --count 100 --seed 42 > /dev/null
	@mkdir -p $(DEMO_HOME)/jobs/kodomo_iryo_online/inbox $(DEMO_HOME)/jobs/inshoku_kyoka_online/inbox
	@cp -rp $(DEMO_HOME)/exports/child_medical/申請一覧_* $(DEMO_HOME)/jobs/kodomo_iryo_online/inbox/
	@cp -rp $(DEMO_HOME)/exports/restaurant_permit/申請一覧_* $(DEMO_HOME)/jobs/inshoku_kyoka_online/inbox/
	@$(KAKARI) run kodomo_iryo_online --config samples/kakari.toml --home $(DEMO_HOME)
	@$(KAKARI) run inshoku_kyoka_online --config samples/kakari.toml --home $(DEMO_HOME)
	@$(KAKARI) report --config samples/kakari.toml --home $(DEMO_HOME) --month $$(date +%Y-%m)
	@$(KAKARI) report --config samples/kakari.toml --home $(DEMO_HOME) --month $$(date +%Y-%m) --file-to $(DEMO_HOME)/reports
	@echo "台帳: $(DEMO_HOME)/ledgers/  報告 (xlsx・pdf・csv): $(DEMO_HOME)/reports/"

lint: setup
	@$(VENV)/bin/ruff check .

typecheck: setup
	@$(VENV)/bin/mypy

# The suite the way Windows runs kakari (switches read by tests/conftest.py and jobs/reading.py):
# every reader started with spawn, and Tesseract through pytesseract with tesserocr hidden from the
# tests and every process they start. PORTABLE_*: what starts reader or worker processes or OCRs;
# PORTABLE_CI: the part of it `make test` runs in that mode (about two minutes), to keep it honest.
PORTABLE_PROCESSES := tests/test_jobs_reading.py tests/test_cli_run.py tests/test_schedule_watch.py \
	tests/test_schedule_scheduler.py tests/test_celery_scaleout.py tests/test_fault_injection.py \
	tests/test_exports_fault.py tests/test_exports_e2e.py tests/test_fuzz_reader.py tests/test_jobs_masking.py \
	tests/test_bots_masking.py tests/test_web_masking.py tests/test_kakari_stop.py tests/test_jobs_exports.py \
	tests/test_systems_cli.py tests/test_ocr_inflate.py tests/test_connectors_excel.py tests/test_jobs_outbox.py
PORTABLE_OCR := tests/test_ocr_scan.py tests/test_ocr_engines.py tests/test_ocr_without_tesserocr.py \
	tests/test_ocr_trust.py tests/test_ocr_raster.py tests/test_ocr_inputs.py tests/test_blank_forms.py \
	tests/test_bots_blankform.py tests/test_bots_harness.py tests/test_golden_samples.py tests/test_ocr_layercheck.py
PORTABLE_CI := tests/test_ocr_engines.py tests/test_ocr_layercheck.py tests/test_jobs_reading.py tests/test_jobs_exports.py \
	tests/test_schedule_watch.py
WINDOWS_MODE := KAKARI_START_METHOD=spawn KAKARI_TEST_HIDE_TESSEROCR=1

test: lint typecheck
	@$(PY) -m pytest -q -n auto --dist loadfile
	@echo "spawn, tesserocr hidden (as on Windows): $(PORTABLE_CI)"
	@$(WINDOWS_MODE) $(PY) -m pytest -q -n auto --dist loadfile $(PORTABLE_CI)

test-portable: setup
	@echo "readers started with spawn:"
	@KAKARI_START_METHOD=spawn $(PY) -m pytest -q -n auto --dist loadfile $(PORTABLE_PROCESSES) $(PORTABLE_OCR)
	@echo "spawn, tesserocr hidden (Tesseract through pytesseract):"
	@$(WINDOWS_MODE) $(PY) -m pytest -q -n auto --dist loadfile $(PORTABLE_PROCESSES) $(PORTABLE_OCR)

test-fast: setup
	@$(PY) -m pytest -q -n auto --dist loadfile -m "not slow"

bench: samples
	@$(PY) benchmarks/run_textlayer.py

clean:
	rm -rf var $(SAMPLES) .pytest_cache
