# Two commands on a machine with Python 3.11 and git:  make run  |  make test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: run serve test lint bench clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) -m streamlit run dashboard/server.py --client.showErrorDetails=full --server.fileWatcherType=auto --server.runOnSave=true

# The production stack on this machine: one replica per core behind nginx, on $$PORT (default 8080)
serve: $(VENV)/.runtime
	$(PY) deploy/serve.py

test: $(VENV)/.dev
	$(PY) -m ruff check backprop_core dashboard tests bench deploy
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check backprop_core dashboard tests bench deploy

bench: $(VENV)/.dev
	$(PY) bench/bench_core.py
	$(PY) bench/bench_sweep.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
