# keras_seq: `make demo` trains and shows a model; `make test` runs the suite.
# Both create the virtual environment and install the package when needed.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND := tensorflow

.PHONY: install demo test clean

$(STAMP): setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/copy_task.py

test: $(STAMP)
	$(PY) -m pytest tests

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
