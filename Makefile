# Two commands on a fresh machine: `make demo` and `make test`.
# Each builds .venv once (re-done only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo demo-en test run emulator clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m demo $(ARGS)

demo-en: $(STAMP)
	$(PY) -m demo --lang en $(ARGS)

test: $(STAMP)
	bash scripts/test $(ARGS)

run: $(STAMP)
	$(VENV)/bin/heatbot run

emulator: $(STAMP)
	$(VENV)/bin/heatbot emulator --port 8081

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
