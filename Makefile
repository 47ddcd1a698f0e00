# The two commands of the README: `make run` starts gridhan with its embedded defaults (SQLite, a
# development PKI, demo devices); `make test` runs the linter and the test suite. Both create the
# virtual environment on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test lint bench clean

$(BIN)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres]'
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/gridhan serve --demo

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench.mtls_load

clean:
	rm -rf $(VENV) gridhan-data .pytest_cache .ruff_cache .hypothesis
