# Gatehouse developer commands. `make run` and `make test` do all set-up on a fresh machine.
#   make test ARGS="-k login -x"   extra arguments for pytest
#   make run ARGS="--port 9000"    extra arguments for scripts/dev_server.py
#   SKIP_LINT=1 make test          skip ruff and mypy before pytest

SHELL := /bin/bash
.DEFAULT_GOAL := help

# uv may live in the user base when scripts/bootstrap.sh installed it with pip --user.
export PATH := $(HOME)/.local/bin:$(PATH)

UV_RUN := uv run --frozen
ARGS ?=

.PHONY: help run test soak bench bootstrap lint format schema schema-release clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## bootstrap, then run FerretDB, Redis, the API and a worker
	bash scripts/run.sh $(ARGS)

test: ## bootstrap, lint, then the test suite
	bash scripts/test.sh $(ARGS)

soak: ## long mixed-workload soak with RSS trend (MINUTES=10 CLIENTS=20)
	$(UV_RUN) python -m tests.reliability.soak --minutes $(or $(MINUTES),10) --clients $(or $(CLIENTS),20)

bootstrap: ## install uv, the venv, redis-server and build FerretDB (idempotent)
	bash scripts/bootstrap.sh

lint: ## ruff check, ruff format --check, mypy
	$(UV_RUN) ruff check .
	$(UV_RUN) ruff format --check .
	$(UV_RUN) mypy

format: ## ruff format, then ruff check --fix
	$(UV_RUN) ruff format .
	$(UV_RUN) ruff check --fix .

schema: ## export the GraphQL schema (SDL) to schema.graphql
	$(UV_RUN) python -m schema.export

schema-release: ## make the current schema the baseline that breaking changes are checked against
	$(UV_RUN) python -m schema.export --release

bench: ## Gatehouse vs fastapi-users and strawberry-django-auth with wrk (ARGS="--quick")
	bash scripts/bootstrap.sh
	$(UV_RUN) python bench/run.py $(ARGS)

clean: ## remove local data (var/) and tool caches; keeps .cache (FerretDB build) and .venv
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache htmlcov .coverage
