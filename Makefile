# Development shortcuts. The venv lives in .venv; `make test` is the same as `bash scripts/test.sh`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_DATABASE := fupin_test
PG_TEST_URL := postgresql+asyncpg://postgres@127.0.0.1:5432/$(PG_TEST_DATABASE)
LINT_DIRS := $(wildcard app tests migrations)
FORMAT_DIRS := $(wildcard app tests migrations bench)

.PHONY: venv demo test test-pg lint format openapi ci

venv: $(BIN)/fupin

$(BIN)/fupin:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'

demo: venv
	$(BIN)/fupin serve --demo

test: venv
	bash scripts/test.sh

test-pg: venv
	bash scripts/ensure-postgres.sh $(PG_TEST_DATABASE)
	FUPIN_TEST_DATABASE_URL=$(PG_TEST_URL) bash scripts/test.sh

lint: venv
	$(BIN)/ruff format --check $(FORMAT_DIRS)
	$(BIN)/ruff check $(LINT_DIRS)
	$(BIN)/mypy app

format: venv
	$(BIN)/ruff format $(FORMAT_DIRS)
	$(BIN)/ruff check --fix $(LINT_DIRS)

openapi: venv
	$(BIN)/fupin openapi export

ci:
	bash .ci/run
