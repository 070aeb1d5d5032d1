# Switchboard: the two front-door commands are `make demo` and `make test`.
SHELL := /bin/bash
# uv on PATH, or the module when pip put it where no shim reaches (pyenv before a rehash)
UV = $(shell command -v uv >/dev/null 2>&1 && echo uv || echo python3 -m uv)

.PHONY: help bootstrap bootstrap-browser up down status demo test test-unit test-all lint check-packages bench

help:
	@echo "make demo      install what is missing, start the stack, run 120 calls, print the summary"
	@echo "make test      the bounded test suite (real Tansu, Redis, PostgreSQL started by fixtures; the console in Chromium)"
	@echo "make test-unit what needs no stack: unit and handler tests (in-memory broker), under a minute"
	@echo "make test-all  everything, including slow load and chaos tests"
	@echo "make up/down   start/stop the local stack (console http://127.0.0.1:8084/console, key in .stack/api-key.json)"
	@echo "make bench     benchmarks under bench/ (figures in bench/results and docs/benchmarks.md)"
	@echo "make lint      ruff and mypy"
	@echo "make check-packages  each service synced and imported on its own"

bootstrap:
	@./scripts/bootstrap.sh

bootstrap-browser:
	@./scripts/bootstrap.sh --browser

up: bootstrap
	$(UV) run sb-stack up

down:
	$(UV) run sb-stack down

status:
	$(UV) run sb-stack status

demo: bootstrap
	$(UV) run sb-stack demo $(if $(PROVIDER),--provider $(PROVIDER),)

test: bootstrap-browser
	$(UV) run pytest -m "not slow" -q

test-unit: bootstrap
	$(UV) run pytest -m "not integration and not slow" -q

test-all: bootstrap-browser
	$(UV) run pytest -q

lint: bootstrap
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run hadolint deploy/Dockerfile

check-packages: bootstrap
	./scripts/check-packages.sh

bench: bootstrap
	$(UV) run python bench/flow_engine.py
	$(UV) run python bench/webhook_roundtrip.py
	$(UV) run python bench/concurrent_calls.py
	$(UV) run python bench/floor.py
