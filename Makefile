# The two commands a newcomer needs: `make run` and `make test` (see README.md); `make serve` for production.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL := postgres://postgres@127.0.0.1:5432/postgres
# The browser tests drive Debian's Chromium with Playwright (no browser download needed).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run serve test lint seed help

help:
	@echo "make run   start the web server and the worker on http://127.0.0.1:8000/ (SQLite by default)"
	@echo "make test  lint, architecture contracts and the whole suite on PostgreSQL"
	@echo "make serve production on this host: Procfile.production's release, then web, worker, webhooks"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

# The quick start runs with DEBUG on (the settings default it off); set DEBUG=false to try without.
run: export DEBUG ?= true
run: $(VENV)/.installed-run
	$(BIN)/python manage.py migrate --noinput
	@if [ -n "$$READ_DATABASE_URL" ]; then $(BIN)/python manage.py migrate --noinput --database read; fi
	$(BIN)/python manage.py seed_demo --if-empty
	$(BIN)/python manage.py ensure_demo_user
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile start

# Production on this host (docs/production.md): config.settings.production, so SECRET_KEY,
# ALLOWED_HOSTS and METRICS_TOKEN must be set. The release step (migrate, collectstatic), then
# gunicorn, the worker and the webhook deliverer, all from Procfile.production; Ctrl-C stops them.
PORT ?= 8000
serve: export GUNICORN_CMD_ARGS ?= --bind 127.0.0.1:$(PORT)
serve: export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/var/metrics
serve: $(VENV)/.installed-run
	mkdir -p "$$PROMETHEUS_MULTIPROC_DIR"
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile.production start release
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho --procfile Procfile.production start --port $(PORT) web worker webhooks

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

$(CHROMIUM):
	$(SUDO) apt-get install -y --no-install-recommends chromium || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

# Test processes in parallel (pytest-xdist); each but the first starts a PostgreSQL cluster of its
# own (tests/worker_clusters.py). TEST_WORKERS=0 runs the suite in this one process.
TEST_WORKERS ?= 3

test: lint $(CHROMIUM)
	DATABASE_URL="$${DATABASE_URL:-$(PG_TEST_URL)}" $(BIN)/python -m pytest -n $(TEST_WORKERS)
