# MAIS: `make demo` runs the app with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NPM := node_modules/.installed
CSS := static/dist/mais.css
APPS := mais access records audit governance api notifications partnership reports

.PHONY: demo test setup lint typecheck lock code clean-db openapi bench audit-deps

demo: setup ## Set up, migrate, load demo data, print sign-ins, serve http://127.0.0.1:8000 (Ctrl-C stops)
	$(PY) manage.py demo

test: setup ## Lint, type-check and run the whole test suite (embedded PostgreSQL, or DATABASE_URL when set)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DATABASE_URL=postgres://typecheck@localhost/unused $(VENV)/bin/mypy .
	$(VENV)/bin/bandit --quiet --severity-level medium --recursive $(APPS) --exclude '*/migrations/*' 2> >(grep -v 'nosec encountered' >&2)
	$(PY) -m pytest

setup: $(STAMP_PY) $(CSS)

# --no-deps: the lock holds every dependency already, so pip installs it as it is and resolves nothing. Resolving
# fails the hash check whenever a dependency asked for with extras has a newer release than the lock's (pypa/pip#9644;
# cachecontrol 0.15.0, 2026-12-07). pip check then proves the lock left nothing out.
$(STAMP_PY): requirements/dev.lock
	@PYBIN=$$(scripts/find-python) && echo "Using $$PYBIN" && \
	  ( [ -x $(PY) ] || $$PYBIN -m venv $(VENV) )
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements/dev.lock
	$(PY) -m pip check
	@touch $@

$(STAMP_NPM): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CSS): $(STAMP_NPM) frontend/mais.scss
	npm run --silent build

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup  ## mypy imports the settings; a dummy DATABASE_URL keeps it from starting PostgreSQL
	DATABASE_URL=postgres://typecheck@localhost/unused $(VENV)/bin/mypy .

lock: ## Re-pin Python dependencies (needs uv in the venv: pip install uv)
	$(VENV)/bin/uv pip compile --universal --python-version 3.12 --generate-hashes -q requirements/base.in -o requirements/base.lock
	$(VENV)/bin/uv pip compile --universal --python-version 3.12 --generate-hashes -q requirements/dev.in -o requirements/dev.lock

audit-deps: setup ## Known vulnerabilities in the locked dependencies (pip-audit; needs the PyPI JSON API)
	$(PY) scripts/audit-deps

openapi: setup ## Regenerate the committed OpenAPI document (api/openapi.yaml) after changing the API
	$(PY) manage.py spectacular --file api/openapi.yaml --validate

SIZE ?= 30000
DURATION ?= 120
bench: setup ## Load test: gunicorn + Locust at 150 users on SIZE subjects; writes loadtests/results/ (make bench SIZE=1000000)
	$(PY) loadtests/bench.py --size $(SIZE) --duration $(DURATION) $(BENCH_ARGS)

code: ## Print the current sign-in code of a demo user: make code USER=police
	@$(PY) manage.py demo_code $(USER)
