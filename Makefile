# Two commands on a fresh clone with only Python 3.11+ and make:
#   make run    the whole system on the embedded stack (kefu up)
#   make test   every test tier (unit, integration, e2e on the real embedded stack)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-unit test-integration test-e2e lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[embedded,dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

run: $(STAMP)
	$(BIN)/kefu up $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

test-e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

lint: $(STAMP)
	$(BIN)/ruff check contracts services tests benchmarks

bench: $(STAMP)
	$(BIN)/python -m benchmarks.router_bench
	$(BIN)/python -m benchmarks.roles_bench
	$(BIN)/python -m benchmarks.firing_bench
	$(BIN)/python -m benchmarks.gateway_bench

clean:
	rm -rf $(VENV) var .pytest_cache
