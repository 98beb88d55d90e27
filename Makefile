# The two commands of the README: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# 1EdTech's Open Badges 2.0 validator, in a venv of its own (its PyLD 0.7 cannot stand beside ours):
# tests/ob2_validator/requirements.txt.
OB2_VENV  ?= .venv-ob2
OB2_STAMP := $(OB2_VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The public address follows HOST and PORT unless SITE_URL is set (in the environment or on the
# command line): `make run PORT=8123` serves on 8123 and its DIDs, URLs and banner say 8123.
SITE_URL ?= http://$(HOST):$(PORT)
# `make test` runs the suite on this many pytest-xdist processes, tests dealt out in order
# (docs/testing.md): 2 for the 2-core CI machine; TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2
MANAGE := SITE_URL=$(SITE_URL) $(BIN)/python manage.py

.PHONY: run test install lint migrate demo worker beat clean mutation mutation-fast

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(OB2_STAMP): tests/ob2_validator/requirements.txt
	$(PYTHON) -m venv $(OB2_VENV)
	$(OB2_VENV)/bin/python -m pip install --quiet --no-deps -r tests/ob2_validator/requirements.txt
	touch $(OB2_STAMP)

install: $(STAMP) $(OB2_STAMP)

migrate: install
	$(MANAGE) migrate --noinput

demo: migrate
	$(MANAGE) seed_demo

## run: SQLite, Celery tasks eagerly in-process, demo data; serves http://$(HOST):$(PORT)
run: demo
	$(MANAGE) runserver $(HOST):$(PORT)

lint: install
	$(BIN)/ruff check .

## test: installs everything and runs the whole suite (PostgreSQL/Redis tests need DATABASE_URL
## and TEST_REDIS_URL; .ci/run sets them and CI=true makes their absence a failure).
test: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=config.settings.test
	$(BIN)/pytest -n $(TEST_WORKERS) --dist load $(PYTEST_ARGS)

## mutation: mutation testing of the rule functions (mutmut; docs/testing.md). Prints every surviving
## mutant and the score per module; exit 1 if one survives. MUTATION_JOBS=2 processes by default.
mutation: install
	$(BIN)/python scripts/mutation.py

## mutation-fast: the fast subset (criteria rule, audit hash) alone; `make test` runs it too. Fails on any survivor.
mutation-fast: install
	$(BIN)/pytest tests/test_mutation_fast.py

worker: install
	SITE_URL=$(SITE_URL) $(BIN)/celery -A config worker --loglevel=INFO

beat: install
	SITE_URL=$(SITE_URL) $(BIN)/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) $(OB2_VENV) db.sqlite3 media .test-media staticfiles .pytest_cache mutants
