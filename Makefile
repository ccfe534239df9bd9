# Two commands do all the setup: `make run` serves the shop, `make test` runs the tests.
# Each creates the virtual environment it needs (.venv, Python 3.13).

PYTHON ?= $(shell command -v python3.13 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test lint format messages migrate demo worker beat check typescript bench clean

help:
	@echo "make run     set up .venv, migrate, load the demo catalogue, serve on http://$(HOST):$(PORT)"
	@echo "make test    set up .venv with the test tools and run the whole suite"
	@echo "make lint    ruff check and ruff format --check"
	@echo "make check   Django checks with warnings as errors, and mypy on services and selectors"
	@echo "make typescript  tsc --strict on the TypeScript client (clients/typescript) against the live OpenAPI schema"
	@echo "make messages  compile the translations (locale/*/LC_MESSAGES/django.po into .mo files)"
	@echo "make bench   catalogue and cart benchmarks (PostgreSQL and Redis on 127.0.0.1)"
	@echo "make worker  a Celery worker on every queue (needs CELERY_BROKER_URL; README.md says which queue is which)"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else "Python 3.13 is required, found " + sys.version.split()[0] + " at $(PYTHON); set PYTHON=/path/to/python3.13")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.runtime: $(BIN)/python requirements.txt
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.txt
	@touch $@

# The .mo files are built, not committed: run, test and check compile them first (GNU gettext's
# msgfmt is needed). After changing a marked string, update the catalogue with
# `$(BIN)/python manage.py makemessages -l fr --ignore=.venv --ignore=tests --ignore=bench`.
messages: $(VENV)/.runtime
	$(BIN)/python manage.py compilemessages --ignore=.venv -v0

migrate: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo_catalog
	$(BIN)/python manage.py load_demo_reviews

# Links in emails and the dummy pay page point at this server, whatever its port, unless
# FRONTEND_URL is set (bookstore/links.py).
run: demo messages
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.dev messages
	$(BIN)/pytest -n auto

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(VENV)/.dev messages
	$(BIN)/python -W error manage.py check
	$(BIN)/mypy

# Generates the OpenAPI schema, TypeScript types from it (openapi-typescript) and runs tsc --strict
# on the openapi-fetch client of the customer journey: fails when the schema stops describing it.
typescript: $(VENV)/.runtime
	bash clients/typescript/check.sh

worker: $(VENV)/.runtime
	$(BIN)/celery -A bookstore worker --loglevel=INFO

beat: $(VENV)/.runtime
	$(BIN)/celery -A bookstore beat --loglevel=INFO

bench: $(VENV)/.dev
	$(BIN)/python bench/catalog.py
	$(BIN)/python bench/cart.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache
