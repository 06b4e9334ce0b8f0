# keras_seq: `make demo` trains and shows a model; `make test` runs the suite.
# Both create the virtual environment and install the package when needed.
# `make demo DEMO_MINUTES=60` trains longer.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND := tensorflow
DEMO_MINUTES ?= 10
# Test processes; each test file runs whole in one of them (its fixtures once).
TEST_WORKERS ?= 2

.PHONY: install demo test clean

$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/g2p_cmudict.py --minutes $(DEMO_MINUTES)

test: $(STAMP)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile tests

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
