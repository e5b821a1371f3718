# Yihao developer commands. `make run` and `make test` set up everything on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SDK_VENV := .venv-sdk
NODE_DIR   := tests/e2e/node
NODE_STAMP := $(NODE_DIR)/node_modules/.installed

.PHONY: run certs test sdk-test lint translations chromium nginx node-deps bench clean demo

$(STAMP): pyproject.toml clients/python/pyproject.toml clients/examples/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e "clients/python[flask]" -e clients/examples -e ".[test]"
	touch $(STAMP)

# Compiled catalogues are build output (never committed): this compiles them in the checkout,
# setup.py into every built wheel. zh-CN is the primary UI language.
translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d idp/web/translations 2>&1 | tail -n 1

## The provider with demo data on the embedded SQLite database, at http://127.0.0.1:5000
run: $(STAMP) translations
	$(BIN)/idp db upgrade
	$(BIN)/idp certs init
	$(BIN)/idp demo seed
	$(BIN)/idp serve --host 127.0.0.1 --port 5000

## The development PKI in certs/ (root CA, written once) and an issuer key under it in the database
certs: $(STAMP)
	$(BIN)/idp db upgrade
	$(BIN)/idp certs init

## ruff and mypy over the provider and its tests
lint: $(STAMP)
	$(BIN)/ruff check idp clients tests setup.py
	$(BIN)/ruff format --check --quiet idp clients tests setup.py
	$(BIN)/mypy

## Debian's Chromium at /usr/bin/chromium, for the browser tests (`playwright install` is not used)
chromium:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

## Debian's nginx at /usr/sbin/nginx: the end-to-end tests run the provider behind it, terminating
## TLS as in production (the tests start it themselves, unprivileged, from a config of their own)
nginx:
	test -x /usr/sbin/nginx || (apt-get update && apt-get install -y nginx)

## panva's openid-client (pinned by package-lock.json) for the Node.js interoperability test.
## Node.js 20 and npm are required: without them this fails rather than skipping the test.
node-deps: $(NODE_STAMP)

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v node >/dev/null && command -v npm >/dev/null || \
	  { echo "node-deps: Node.js 20 and npm are required (node or npm not on PATH)" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || \
	  { echo "node-deps: Node.js 20 or later is required, found $$(node --version)" >&2; exit 1; }
	cd $(NODE_DIR) && npm ci --no-audit --no-fund
	touch $@

## The SDK on its own: installed into a fresh virtual environment (no provider, no editable
## install), then its own suite (clients/python/tests) run with its own pytest configuration
sdk-test:
	rm -rf $(SDK_VENV)
	$(PYTHON) -m venv $(SDK_VENV)
	$(SDK_VENV)/bin/pip install --quiet "./clients/python[flask,test]"
	cd clients/python && ../../$(SDK_VENV)/bin/pytest -q -p no:cacheprovider

## Everything: lint, the SDK on its own, then unit, integration and end-to-end tests on SQLite
## and PostgreSQL, on two pytest-xdist workers (one per core of these machines: most of the
## end-to-end time is servers and Chromium waiting on each other, not CPU)
test: $(STAMP) translations lint sdk-test chromium nginx node-deps
	$(BIN)/pytest -n 2

## The provider and the reference services (housing fund :8001, enrolment :8002, counter :8003, financing :8004)
demo: $(STAMP) translations
	$(BIN)/python -m yihao_examples.demo

## Benchmarks (never part of `make test`; docs/performance.md): `idp serve` on CPU 0 under wrk on
## CPU 1, the login flow, e-certificate sizes and verification. Installs Debian's wrk when missing.
bench: $(STAMP) translations
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python -m tests.bench.run

clean:
	rm -rf $(VENV) $(SDK_VENV) instance .pytest_cache .mypy_cache .ruff_cache
