# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the test suite starts for real: Virtuoso (remote SPARQL store), MediaWiki on
# SQLite served by PHP's built-in server, Chromium for the browser tests (driven by Playwright).
DEBIAN_PACKAGES := virtuoso-opensource-7-bin mediawiki php-cli php-sqlite3 chromium

.PHONY: setup system-deps node-deps demo serve test lint bench bench-quick clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed

system-deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@# Node.js runs the JavaScript clients the tests drive (the LDES client); any packaging of it will do
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm; }

# npm packages of web/package.json: the vendored front-end libraries and the tests' JS clients
web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

node-deps: system-deps web/node_modules/.installed

demo: setup
	$(BIN)/maillage demo

serve: setup
	$(BIN)/maillage serve

lint: setup
	$(BIN)/ruff check hub connectors tests bench
	$(BIN)/mypy hub connectors

test: system-deps node-deps setup lint
	$(BIN)/pytest -q

bench: setup system-deps
	$(BIN)/python bench/run.py
	$(BIN)/python bench/store_floor.py
	$(BIN)/python bench/http_api.py
	$(BIN)/python bench/query_load.py
	$(BIN)/python bench/anonymous_queries.py
	$(BIN)/python bench/mediawiki.py
	$(BIN)/python bench/territories.py
	$(BIN)/python bench/placing.py
	$(BIN)/python bench/recall.py
	$(BIN)/python bench/reimport.py
	$(BIN)/python bench/append.py
	$(BIN)/python bench/virtuoso_side_by_side.py

bench-quick: setup system-deps
	$(BIN)/python bench/run.py --quick
	$(BIN)/python bench/store_floor.py --quick
	$(BIN)/python bench/http_api.py --quick
	$(BIN)/python bench/query_load.py --quick
	$(BIN)/python bench/anonymous_queries.py --quick
	$(BIN)/python bench/mediawiki.py --quick
	$(BIN)/python bench/territories.py --quick
	$(BIN)/python bench/placing.py --quick
	$(BIN)/python bench/recall.py --quick
	$(BIN)/python bench/reimport.py --quick
	$(BIN)/python bench/append.py --quick
	$(BIN)/python bench/virtuoso_side_by_side.py --quick

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
